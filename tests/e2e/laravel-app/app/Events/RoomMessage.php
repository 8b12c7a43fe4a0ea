<?php
namespace App\Events;

use Illuminate\Broadcasting\InteractsWithSockets;
use Illuminate\Broadcasting\PresenceChannel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;

/** broadcast(new RoomMessage(...))->toOthers() skips the sender's socket. */
class RoomMessage implements ShouldBroadcastNow
{
    use InteractsWithSockets;

    public function __construct(public string $from, public string $text)
    {
    }

    public function broadcastOn()
    {
        return new PresenceChannel('room.1');
    }

    public function broadcastAs()
    {
        return 'message';
    }
}
