<?php

namespace Realtime\Laravel;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Support\ServiceProvider;
use Realtime\Laravel\Console\StatusCommand;

/**
 * Registers the "realtime" broadcast driver and the realtime:status command.
 *
 * With the package installed, BROADCAST_DRIVER=realtime (Laravel 8 to 10) or
 * BROADCAST_CONNECTION=realtime (11 and later) is all an app sets: the
 * connection is added to config/broadcasting.php's "connections" when the
 * app has none of that name.
 */
class RealtimeServiceProvider extends ServiceProvider
{
    public function register()
    {
        $config = $this->app['config'];
        if (! $config->has('broadcasting.connections.realtime')) {
            $config->set('broadcasting.connections.realtime', ['driver' => 'realtime']);
        }
    }

    public function boot()
    {
        $this->app->resolving(BroadcastManager::class, function (BroadcastManager $manager) {
            $this->extend($manager);
        });
        // Resolved before this provider booted (a provider that broadcasts early).
        if ($this->app->resolved(BroadcastManager::class)) {
            $this->extend($this->app->make(BroadcastManager::class));
        }

        if ($this->app->runningInConsole()) {
            $this->commands([StatusCommand::class]);
        }
    }

    private function extend(BroadcastManager $manager): void
    {
        $manager->extend('realtime', function ($app, array $config) {
            return new RealtimeBroadcaster($config);
        });
    }
}
