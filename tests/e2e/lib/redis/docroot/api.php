<?php
// One Realtime\ call per request, for the redis broker tests.
//
// POST a JSON object {"op": ..., ...arguments}; the answer is always HTTP 200
// with {"ok":true,"result":...,"ms":..,"pid":..,"node":..} or
// {"ok":false,"class":..,"error":..,"ms":..,...}; "ms" is how long the call
// took (the tests check that failures come fast).
//
//   broadcast   channel (string or list), message, event?, except?, count?
//   toUser      user, message, event?
//   send        connection, message, event?
//   disconnect  user
//   users       channel              Realtime\getChannelUsers()
//   channels                         Realtime\getChannels()
//   subscribers channel              Realtime\getSubscriberCount()
//   connections                      Realtime\getConnectionCount()
//   token       user, info?, channels?
//   status                           Realtime\status()
//   burst       channel, count, from?, pause_us? broadcast() count times ({seq: from+i}),
//               going on past failures: {ok, thrown, errors, max_us, ok_max_us}
//   confirmed   channel, message     Realtime\broadcastConfirmed()
//   history     channel, limit?, since? ({offset, epoch})   Realtime\history()
declare(strict_types=1);

header('Content-Type: application/json');

$in = json_decode((string) file_get_contents('php://input'), true) ?? [];
$op = (string) ($in['op'] ?? '');
$started = hrtime(true);
$answer = ['ok' => true, 'result' => null];
try {
    switch ($op) {
        case 'broadcast':
            $count = max(1, (int) ($in['count'] ?? 1));
            for ($i = 0; $i < $count; $i++) {
                $message = $count > 1 ? ['seq' => $i, 'data' => $in['message'] ?? null] : ($in['message'] ?? null);
                Realtime\broadcast($in['channel'], $message, $in['event'] ?? null, $in['except'] ?? null);
            }
            break;
        case 'toUser':
            Realtime\broadcastToUser((string) $in['user'], $in['message'] ?? null, $in['event'] ?? null);
            break;
        case 'send':
            Realtime\send((string) $in['connection'], $in['message'] ?? null, $in['event'] ?? null);
            break;
        case 'disconnect':
            Realtime\disconnectUser((string) $in['user']);
            break;
        case 'users':
            $answer['result'] = Realtime\getChannelUsers((string) $in['channel']);
            break;
        case 'channels':
            $answer['result'] = (object) Realtime\getChannels();
            break;
        case 'subscribers':
            $answer['result'] = Realtime\getSubscriberCount((string) $in['channel']);
            break;
        case 'connections':
            $answer['result'] = Realtime\getConnectionCount();
            break;
        case 'token':
            $options = ['channels' => $in['channels'] ?? ['presence-*', 'private-*']];
            if (array_key_exists('info', $in)) {
                $options['info'] = $in['info'];
            }
            $answer['result'] = Realtime\token((string) $in['user'], $options);
            break;
        case 'status':
            $answer['result'] = Realtime\status();
            break;
        case 'burst':
            $from = (int) ($in['from'] ?? 0);
            $out = ['ok' => 0, 'thrown' => 0, 'errors' => [], 'max_us' => 0.0, 'ok_max_us' => 0.0];
            for ($i = 0; $i < (int) $in['count']; $i++) {
                $t = hrtime(true);
                try {
                    Realtime\broadcast($in['channel'], ['seq' => $from + $i]);
                    $out['ok']++;
                    $out['ok_max_us'] = max($out['ok_max_us'], (hrtime(true) - $t) / 1e3);
                } catch (Realtime\Exception $e) {
                    $out['thrown']++;
                    $out['errors'][$e->getMessage()] = true;
                }
                $out['max_us'] = max($out['max_us'], (hrtime(true) - $t) / 1e3);
                if (!empty($in['pause_us'])) {
                    usleep((int) $in['pause_us']);
                }
            }
            $out['errors'] = array_keys($out['errors']);
            $answer['result'] = $out;
            break;
        case 'confirmed':
            $answer['result'] = Realtime\broadcastConfirmed($in['channel'], $in['message'] ?? null);
            break;
        case 'history':
            $answer['result'] = Realtime\history((string) $in['channel'], (int) ($in['limit'] ?? 100), $in['since'] ?? null);
            break;
        default:
            throw new InvalidArgumentException("unknown op '$op'");
    }
} catch (\Throwable $e) {
    $answer = ['ok' => false, 'class' => get_class($e), 'error' => $e->getMessage()];
}
$answer['ms'] = (hrtime(true) - $started) / 1e6;
$answer['pid'] = getmypid();
$answer['node'] = Realtime\status()['node_id'];
echo json_encode($answer, JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_SLASHES), "\n";
