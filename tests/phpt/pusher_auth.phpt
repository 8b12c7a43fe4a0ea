--TEST--
pusherAuth() / pusherUserAuth(): the Pusher auth answers, signed with realtime.app_secret as the SDKs sign them; argument errors
--EXTENSIONS--
realtime
--INI--
pcre.jit=0
realtime.log=/dev/null
realtime.app_key=app-key-1
realtime.app_secret=app-secret-1
realtime.secret=native-secret
--FILE--
<?php
$sig = fn(string $subject) => 'app-key-1:' . hash_hmac('sha256', $subject, 'app-secret-1');

$a = Realtime\pusherAuth('123.456', 'private-orders.7');
var_dump($a === ['auth' => $sig('123.456:private-orders.7')]);

$data = json_encode(['user_id' => '42', 'user_info' => ['name' => 'Ann é']], JSON_UNESCAPED_UNICODE);
$p = Realtime\pusherAuth('1.2', 'presence-room', $data);
var_dump($p === ['auth' => $sig("1.2:presence-room:$data"), 'channel_data' => $data]);

$u = Realtime\pusherUserAuth('9.10', '{"id":"42"}');
var_dump($u === ['auth' => $sig('9.10::user::{"id":"42"}'), 'user_data' => '{"id":"42"}']);

$bad = [
    fn() => Realtime\pusherAuth('abc', 'private-a'),
    fn() => Realtime\pusherAuth('1.2.3', 'private-a'),
    fn() => Realtime\pusherAuth('1.2', 'news'),
    fn() => Realtime\pusherAuth('1.2', 'private-bad name'),
    fn() => Realtime\pusherAuth('1.2', 'presence-room'),
    fn() => Realtime\pusherAuth('1.2', 'private-a', '{}'),
    fn() => Realtime\pusherAuth('1.2', 'presence-room', "\xff"),
    fn() => Realtime\pusherAuth('1.2', 'presence-room', str_repeat('x', 65537)),
    fn() => Realtime\pusherUserAuth('1.2', ''),
];
foreach ($bad as $f) {
    try {
        $f();
        echo "no error\n";
    } catch (ValueError $e) {
        echo $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
Realtime\pusherAuth(): Argument #1 ($socketId) must be a socket id (digits "." digits)
Realtime\pusherAuth(): Argument #1 ($socketId) must be a socket id (digits "." digits)
Realtime\pusherAuth(): Argument #2 ($channel) must be the name of a private- or presence- channel
Realtime\pusherAuth(): Argument #2 ($channel) must be the name of a private- or presence- channel
Realtime\pusherAuth(): Argument #3 ($channelData) must be the member's JSON ({"user_id": ..., "user_info": ...}) for a presence channel
Realtime\pusherAuth(): Argument #3 ($channelData) must be null for a channel that is not presence-
Realtime\pusherAuth(): Argument #3 ($channelData) must be 1 to 65536 bytes of UTF-8 (a JSON object)
Realtime\pusherAuth(): Argument #3 ($channelData) must be 1 to 65536 bytes of UTF-8 (a JSON object)
Realtime\pusherUserAuth(): Argument #2 ($userData) must be 1 to 65536 bytes of UTF-8 (a JSON object)
