<?php
namespace App\Providers;

use App\Models\User;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    public function boot()
    {
        // The logged-in user is the X-User header (Echo sends it with auth.headers).
        Auth::viaRequest('x-user', fn ($request) => User::find($request->header('X-User')));
    }
}
