<?php
// What Composer's vendor/autoload.php does here: Debian's autoloader for the
// framework, and PSR-4 for the app and each package of installed.json.
require_once 'Illuminate/autoload.php';

$psr4 = ['App\\' => dirname(__DIR__) . '/app/'];
$installed = json_decode((string) @file_get_contents(__DIR__ . '/composer/installed.json'), true);
foreach ($installed['packages'] ?? [] as $package) {
    foreach ($package['autoload']['psr-4'] ?? [] as $prefix => $dir) {
        $psr4[$prefix] = __DIR__ . '/' . $package['name'] . '/' . $dir;
    }
}
spl_autoload_register(function (string $class) use ($psr4) {
    foreach ($psr4 as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
