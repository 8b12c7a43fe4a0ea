<?php

use App\Events\OrderPaid;
use App\Events\OrderShipped;
use App\Events\RoomMessage;
use App\Models\User;
use App\Notifications\InvoicePaid;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Route;

Route::get('/', fn () => response()->json(['ok' => true, 'pid' => getmypid()]));

// Realtime\status() of the worker that answers.
Route::get('/status', fn () => response()->json(Realtime\status()));

// ShouldBroadcastNow, public channel.
Route::post('/ship/{id}', function ($id) {
    event(new OrderShipped((int) $id, getmypid()));
    return ['ok' => true];
});

// ShouldBroadcastNow on a presence channel, to others (X-Socket-ID).
Route::post('/say', function (Request $request) {
    $user = $request->user();
    broadcast(new RoomMessage($user->name, (string) $request->input('text')))->toOthers();
    return ['ok' => true];
})->middleware('auth');

// ShouldBroadcast: queued (QUEUE_CONNECTION), sent by queue:work.
Route::post('/pay/{id}', function ($id) {
    event(new OrderPaid((int) $id, 100 * (int) $id));
    return ['ok' => true];
});

// A broadcast notification to a user's private channel.
Route::post('/notify/{user}', function ($user) {
    User::find($user)->notify(new InvoicePaid(7));
    return ['ok' => true];
});

// Pusher user authentication (pusher:signin) for the #server-to-user- channel;
// Laravel 8 has no Broadcast::userRoutes(), so the app answers it itself.
Route::post('/user-auth', function (Request $request) {
    $user = $request->user();
    return Realtime\pusherUserAuth((string) $request->input('socket_id'),
        json_encode(['id' => (string) $user->id, 'user_info' => ['name' => $user->name]]));
})->middleware('auth');

// The driver refuses private-encrypted- channels (it does not encrypt).
Route::post('/encrypted', function () {
    try {
        app(Illuminate\Contracts\Broadcasting\Factory::class)->connection()
            ->broadcast([new Illuminate\Broadcasting\EncryptedPrivateChannel('vault'), 'orders'], 'Leak', ['secret' => 1]);
    } catch (Illuminate\Broadcasting\BroadcastException $e) {
        return ['error' => $e->getMessage()];
    }
    return ['error' => null];
});
