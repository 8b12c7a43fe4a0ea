<?php
// docs/symfony.md's "component alone" path, as written there: a Hub at
// MERCURE_URL with the JWT the bundle's `jwt: {secret, publish: '*'}` makes
// from MERCURE_JWT_SECRET (HS256, {"mercure":{"publish":["*"]}}).
// CLI: php symfony-hub.php <topic> <data> [private]; prints the id, or the error.
require '/usr/share/php/Symfony/Component/Mercure/autoload.php';

use Symfony\Component\Mercure\Hub;
use Symfony\Component\Mercure\Jwt\StaticTokenProvider;
use Symfony\Component\Mercure\Update;

$b64u = fn (string $s): string => rtrim(strtr(base64_encode($s), '+/', '-_'), '=');
$head = $b64u('{"alg":"HS256","typ":"JWT"}') . '.' . $b64u('{"mercure":{"publish":["*"]}}');
$jwt = $head . '.' . $b64u(hash_hmac('sha256', $head, getenv('MERCURE_JWT_SECRET'), true));

[, $topic, $data] = $argv;
$hub = @new Hub(getenv('MERCURE_URL'), new StaticTokenProvider($jwt));
try {
    echo 'id:', $hub->publish(new Update($topic, $data, isset($argv[3])));
} catch (Throwable $e) {
    echo 'error:', get_class($e), ': ', $e->getMessage();
}
