<?php
// Lone Realtime\broadcast() calls, for workload (f): where the cost of one
// call per request goes. Answers {"first":ns,"idle":ns,"next":ns}:
//   first  the request's first call (as pub.php?count=1 measures it)
//   idle   a call 2 ms after it (realtime.batch_window's default)
//   next   a call right after that one
// Nobody is subscribed to the channel.
$payload = 'TS0:' . str_repeat('x', 60);
$t = [];
$t0 = hrtime(true);
Realtime\broadcast('nobody', $payload);
$t['first'] = hrtime(true) - $t0;
usleep(2000);
$t0 = hrtime(true);
Realtime\broadcast('nobody', $payload);
$t['idle'] = hrtime(true) - $t0;
$t0 = hrtime(true);
Realtime\broadcast('nobody', $payload);
$t['next'] = hrtime(true) - $t0;
header('Content-Type: application/json');
echo json_encode($t), "\n";
