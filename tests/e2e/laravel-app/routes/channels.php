<?php

use Illuminate\Support\Facades\Broadcast;

// Eve (3) may not follow paid orders.
Broadcast::channel('orders.private', fn ($user) => (int) $user->id !== 3);

// Presence: what the callback returns is the member's info.
Broadcast::channel('room.{id}', fn ($user, $id) => ['id' => $user->id, 'name' => $user->name]);

// Broadcast notifications (App\Models\User's default channel).
Broadcast::channel('App.Models.User.{id}', fn ($user, $id) => (int) $user->id === (int) $id);
