--TEST--
phpinfo() and the module's info section mask realtime.secret, redis_password, app_secret, publish_key and metrics_key
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
realtime.secret=SECRET-token-signing-1f2e
realtime.redis_password=SECRET-redis-pass-9a8b
realtime.app_secret=SECRET-pusher-app-7c6d
realtime.publish_key=SECRET-publish-key-5e4f
realtime.metrics_key=SECRET-metrics-key-3a2b
realtime.app_key=visible-app-key
--FILE--
<?php
$names = ['secret', 'redis_password', 'app_secret', 'publish_key', 'metrics_key'];
/* The values are set: PHP code may still read them. */
foreach ($names as $n) {
    echo "realtime.$n readable: ", var_export(str_starts_with(ini_get("realtime.$n"), 'SECRET-'), true), "\n";
}
ob_start();
phpinfo(INFO_MODULES);
$text = ob_get_clean();
$r = new ReflectionExtension('realtime');
ob_start();
$r->info();
$ri = ob_get_clean();
foreach (['phpinfo()' => $text, 'ReflectionExtension::info() (php --ri)' => $ri] as $where => $out) {
    echo "$where shows a secret: ", var_export(str_contains($out, 'SECRET-'), true), "\n";
    foreach ($names as $n) {
        echo "  realtime.$n masked: ",
            var_export((bool) preg_match('/^realtime\.' . $n . ' => \*{8} => \*{8}$/m', $out), true), "\n";
    }
    /* A setting that is not a credential still shows in clear. */
    echo "  app_key in clear: ", var_export(str_contains($out, 'realtime.app_key => visible-app-key'), true), "\n";
}
?>
--EXPECT--
realtime.secret readable: true
realtime.redis_password readable: true
realtime.app_secret readable: true
realtime.publish_key readable: true
realtime.metrics_key readable: true
phpinfo() shows a secret: false
  realtime.secret masked: true
  realtime.redis_password masked: true
  realtime.app_secret masked: true
  realtime.publish_key masked: true
  realtime.metrics_key masked: true
  app_key in clear: true
ReflectionExtension::info() (php --ri) shows a secret: false
  realtime.secret masked: true
  realtime.redis_password masked: true
  realtime.app_secret masked: true
  realtime.publish_key masked: true
  realtime.metrics_key masked: true
  app_key in clear: true
