<?php

namespace Realtime\Laravel\Console;

use Illuminate\Console\Command;

/**
 * php artisan realtime:status: Realtime\status() of this process and the
 * server's hubs (one per PHP worker) with their connections.
 *
 * A CLI process runs no hub; it sees the hubs of a server on this host
 * through their shared segment when it runs as the same user with the
 * same realtime.secret (publish_path "segment"); otherwise it publishes
 * over HTTP (publish_path "http") and lists no hubs.
 */
class StatusCommand extends Command
{
    protected $signature = 'realtime:status {--json : Print Realtime\\status() as JSON}';

    protected $description = 'Show the realtime hubs of this server and how this process publishes';

    public function handle()
    {
        if (! function_exists('Realtime\\status')) {
            $this->error('The realtime extension is not loaded (extension=realtime.so)');

            return 1;
        }
        $status = \Realtime\status();

        if ($this->option('json')) {
            $this->line(json_encode($status, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));

            return 0;
        }

        $this->line(sprintf('Hub address:   %s (path %s, broker %s)', $status['listen'], $status['path'], $status['broker']));
        $this->line(sprintf('This process:  pid %d, %s', $status['pid'], $status['running']
            ? "runs hub {$status['node_id']} ({$status['connections']} connections)"
            : 'runs no hub'));
        $this->line(sprintf('Publishes via: %s', $status['publish_path']));

        $hubs = $status['hubs'] ?? [];
        if ($hubs === []) {
            $this->line('Hubs:          none seen from this process'
                . ($status['publish_path'] === 'http' ? ' (it publishes over HTTP: another user, another secret, or no server on this host)' : ''));
        } else {
            $total = array_sum(array_column($hubs, 'connections'));
            $this->line(sprintf('Hubs:          %d, %d connections', count($hubs), $total));
            $this->table(['node', 'pid', 'connections'], array_map(
                fn (array $h) => [$h['node'], $h['pid'], $h['connections']],
                $hubs
            ));
        }

        $drops = [];
        foreach ($status as $key => $value) {
            if (is_int($value) && $value > 0 && (str_starts_with($key, 'dropped_') || str_starts_with($key, 'refused_'))) {
                $drops[] = [$key, $value];
            }
        }
        if ($drops !== []) {
            $this->table(['counter', 'value'], $drops);
        }
        if (! empty($status['error'])) {
            $this->warn('Last error: ' . $status['error']);
        }

        return 0;
    }
}
