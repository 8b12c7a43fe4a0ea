<?php
namespace App\Events;

use Illuminate\Broadcasting\Channel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;

/** Not queued: broadcast in the request, by the worker's own hub. */
class OrderShipped implements ShouldBroadcastNow
{
    public function __construct(public int $orderId, public int $pid)
    {
    }

    public function broadcastOn()
    {
        return new Channel('orders');
    }
}
