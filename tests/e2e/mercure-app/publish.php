<?php
// Publishes one update to the hub with Debian's symfony/mercure (0.6):
// its Publisher POSTs to MERCURE_URL with the JWT given, as a Symfony app
// pointed at the hub does. CLI: php publish.php <hub url> <jwt> <json of
// {topics, data, private, id, type, retry}>; prints the id, or the error.
require '/usr/share/php/Symfony/Component/Mercure/autoload.php';

use Symfony\Component\HttpClient\HttpClient;
use Symfony\Component\Mercure\Jwt\StaticTokenProvider;
use Symfony\Component\Mercure\Publisher;
use Symfony\Component\Mercure\Update;

[, $hub, $jwt, $json] = $argv;
$u = json_decode($json, true);
$publisher = @new Publisher($hub, new StaticTokenProvider($jwt), HttpClient::create());
try {
    $id = $publisher(new Update($u['topics'], $u['data'] ?? '', $u['private'] ?? false,
        $u['id'] ?? null, $u['type'] ?? null, $u['retry'] ?? null));
    echo 'id:', $id;
} catch (Throwable $e) {
    $prev = $e->getPrevious();
    echo 'error:', get_class($e), ': ', $e->getMessage(), $prev ? ' (' . $prev->getMessage() . ')' : '';
}
