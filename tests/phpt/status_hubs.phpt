--TEST--
status()['hubs'] lists the pool's live hubs [node, pid, connections]: [] without a hub, this hub once started; php --ri lists them too
--EXTENSIONS--
realtime
--SKIPIF--
<?php require __DIR__ . '/ws_client.inc'; rt_skip_unless_free('127.77.0.19:17701');
--INI--
pcre.jit=0
realtime.listen=127.77.0.19:17701
realtime.log=/dev/null
realtime.allow_anonymous=1
--FILE--
<?php
require __DIR__ . '/ws_client.inc';
var_dump(Realtime\status()['hubs']);
var_dump(Realtime\start());
$s = Realtime\status();
var_dump(count($s['hubs']), $s['hubs'][0]['node'] === $s['node_id'], $s['hubs'][0]['pid'] === getmypid(),
    $s['hubs'][0]['connections']);
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
var_dump(str_contains($info, "Pool hubs (node (pid): connections) => {$s['node_id']} (pid " . getmypid() . "): 0"));
// Without a pool's segment: this process's recent errors (none logged here).
var_dump(str_contains($info, "Recent errors (this process) => none"));
var_dump(Realtime\stop());
?>
--EXPECT--
array(0) {
}
bool(true)
int(1)
bool(true)
bool(true)
int(0)
bool(true)
bool(true)
bool(true)
