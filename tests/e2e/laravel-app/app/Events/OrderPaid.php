<?php
namespace App\Events;

use Illuminate\Broadcasting\PrivateChannel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcast;

/** Queued: broadcast by `php artisan queue:work`, a CLI process with no hub. */
class OrderPaid implements ShouldBroadcast
{
    public function __construct(public int $orderId, public int $amount)
    {
    }

    public function broadcastOn()
    {
        return [new PrivateChannel('orders.private'), new \Illuminate\Broadcasting\Channel('#server-to-user-2')];
    }

    public function broadcastWith()
    {
        return ['orderId' => $this->orderId, 'amount' => $this->amount, 'pid' => getmypid()];
    }
}
