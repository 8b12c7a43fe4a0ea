<?php
namespace App\Notifications;

use Illuminate\Notifications\Messages\BroadcastMessage;
use Illuminate\Notifications\Notification;

/** A broadcast notification: Echo's .notification() on private-App.Models.User.{id}. */
class InvoicePaid extends Notification
{
    public function __construct(public int $invoice)
    {
    }

    public function via($notifiable)
    {
        return ['broadcast'];
    }

    public function toBroadcast($notifiable)
    {
        return (new BroadcastMessage(['invoice' => $this->invoice]))->onConnection('sync');
    }
}
