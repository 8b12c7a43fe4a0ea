<?php
// Starts a child process from a request, for the tests that check that
// such processes run no hub (tests/e2e/earlystart.test.mjs).
//   how=proc_open    `sleep 30` through proc_open(); answers its pid
//   how=pcntl_fork   pcntl_fork(); the child writes its pid and
//                    Realtime\status() to the file `report` (a name under
//                    sys_get_temp_dir()), then sleeps until the test kills
//                    it (the answer ends when it does: it holds the socket)
header('Content-Type: application/json');
$how = (string) ($_GET['how'] ?? '');
if ($how === 'proc_open') {
    $proc = proc_open(['sleep', '30'], [], $pipes);
    $pid = proc_get_status($proc)['pid'];
    echo json_encode(['pid' => getmypid(), 'child' => $pid]), "\n";
    exit;
}
if ($how === 'pcntl_fork') {
    $report = sys_get_temp_dir() . '/' . basename((string) ($_GET['report'] ?? 'rt-fork.json'));
    $child = pcntl_fork();
    if ($child === 0) {
        file_put_contents($report . '.tmp', json_encode(['pid' => getmypid(), 'status' => Realtime\status()]));
        rename($report . '.tmp', $report);
        sleep(30);
        exit;
    }
    echo json_encode(['pid' => getmypid(), 'child' => $child]), "\n";
    exit;
}
http_response_code(400);
echo json_encode(['error' => 'how=proc_open|pcntl_fork']), "\n";
