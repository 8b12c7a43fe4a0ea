<?php
namespace App\Providers;

use App\Models\User;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    public function boot()
    {
        // The logged-in user is the X-User header (Echo sends it with
        // auth.headers), or "Authorization: User <id>", which the hub
        // forwards from a native client's upgrade to its auth endpoint.
        Auth::viaRequest('x-user', function ($request) {
            $id = $request->header('X-User');
            if ($id === null && preg_match('/^User (\d{1,9})$/', (string) $request->header('Authorization'), $m)) {
                $id = $m[1];
            }

            return $id === null ? null : User::find($id);
        });
    }
}
