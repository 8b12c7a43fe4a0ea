<?php

namespace Realtime\Laravel;

use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\Broadcasters\Broadcaster;
use Illuminate\Broadcasting\Broadcasters\UsePusherChannelConventions;
use Illuminate\Support\Str;
use Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException;

/**
 * A Laravel broadcaster that hands events to the realtime extension's hub
 * in the same process (Realtime\broadcast()): no HTTP request, no SDK, no
 * signing. Channels follow Pusher's conventions (private-, presence-), and
 * /broadcasting/auth answers in Pusher's format, signed by the extension
 * with the app's secret (Realtime\pusherAuth()), so Laravel Echo with
 * broadcaster 'pusher' and pusher-js work unchanged.
 */
class RealtimeBroadcaster extends Broadcaster
{
    use UsePusherChannelConventions;

    /** Pusher's channel for the events sent to one signed-in user. */
    public const USER_CHANNEL_PREFIX = '#server-to-user-';

    /** Realtime\broadcast() takes at most this many channels at once. */
    private const CHANNELS_PER_CALL = 100;

    /** @var array */
    protected $config;

    public function __construct(array $config = [])
    {
        $this->config = $config;
    }

    /**
     * Authenticate the incoming request for a given channel.
     *
     * @param  \Illuminate\Http\Request  $request
     * @return mixed
     *
     * @throws \Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException
     */
    public function auth($request)
    {
        // The hub's own call (realtime.auth_endpoint pointed at this route):
        // a GET for a connection, not a channel.
        if (empty($request->channel_name) && $request->isMethod('GET')) {
            return $this->nativeIdentity($request);
        }

        $channelName = $this->normalizeChannelName((string) $request->channel_name);

        if (empty($request->channel_name) ||
            ($this->isGuardedChannel($request->channel_name) &&
            ! $this->retrieveUser($request, $channelName))) {
            throw new AccessDeniedHttpException;
        }

        return parent::verifyUserCanAccessChannel($request, $channelName);
    }

    /**
     * Who a native-protocol client is, for the hub's auth endpoint call
     * (docs/protocol.md, "Auth endpoint"): the signed-in user of the
     * client's cookies or Authorization header, the channels it may join
     * (its notification channel and the connection's "native_channels"
     * patterns), and the attributes named by "native_user_info" as its
     * presence info. 401 when no user is signed in: the hub refuses the
     * connection (or lets it in anonymous with realtime.allow_anonymous).
     * Channel callbacks of routes/channels.php are not asked: the hub
     * checks each subscribe against this list.
     *
     * @param  \Illuminate\Http\Request  $request
     * @return \Illuminate\Http\JsonResponse
     */
    protected function nativeIdentity($request)
    {
        $user = $this->retrieveUser($request, '');
        if (! $user) {
            return response()->json(['error' => 'not authenticated'], 401);
        }
        $id = (string) (method_exists($user, 'getAuthIdentifierForBroadcasting')
            ? $user->getAuthIdentifierForBroadcasting()
            : $user->getAuthIdentifier());

        $channels = [];
        foreach ((array) $this->notificationChannel($user) as $name) {
            $channels[] = 'private-'.$name;
        }
        foreach ((array) ($this->config['native_channels'] ?? []) as $pattern) {
            $channels[] = str_replace('{id}', $id, (string) $pattern);
        }
        $identity = ['user_id' => $id, 'channels' => array_values(array_unique($channels))];

        $attributes = (array) ($this->config['native_user_info'] ?? []);
        if ($attributes) {
            $info = [];
            foreach ($attributes as $name) {
                $info[$name] = $user->{$name};
            }
            $identity['user_info'] = $info;
        }

        return response()->json($identity, 200, [], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    }

    /** The private channel Laravel sends the user's broadcast notifications on. */
    protected function notificationChannel($user)
    {
        // As BroadcastNotificationCreated::broadcastOn(), which passes the
        // notification: a method that needs one gets Laravel's default name.
        if (method_exists($user, 'receivesBroadcastNotificationsOn')
            && (new \ReflectionMethod($user, 'receivesBroadcastNotificationsOn'))->getNumberOfRequiredParameters() === 0) {
            return array_map('strval', (array) $user->receivesBroadcastNotificationsOn());
        }

        $key = method_exists($user, 'getKey') ? $user->getKey() : $user->getAuthIdentifier();

        return str_replace('\\', '.', get_class($user)).'.'.$key;
    }

    /**
     * The Pusher-format answer the hub checks: {"auth": "<key>:<signature>"}
     * and, on presence channels, the member's "channel_data".
     *
     * @param  \Illuminate\Http\Request  $request
     * @param  mixed  $result
     * @return mixed
     */
    public function validAuthenticationResponse($request, $result)
    {
        $channel = (string) $request->channel_name;
        $socketId = (string) $request->socket_id;

        if (Str::startsWith($channel, 'private-encrypted-')) {
            throw new AccessDeniedHttpException('private-encrypted- channels are not supported by the realtime driver');
        }

        try {
            if (! Str::startsWith($channel, 'presence-')) {
                return $this->respond($request, \Realtime\pusherAuth($socketId, $channel));
            }

            $user = $this->retrieveUser($request, $this->normalizeChannelName($channel));
            $id = method_exists($user, 'getAuthIdentifierForBroadcasting')
                ? $user->getAuthIdentifierForBroadcasting()
                : $user->getAuthIdentifier();
            $data = json_encode(
                ['user_id' => (string) $id, 'user_info' => $result],
                JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR
            );

            return $this->respond($request, \Realtime\pusherAuth($socketId, $channel, $data));
        } catch (\ValueError $e) {
            // A socket id or channel name the hub would refuse anyway.
            throw new AccessDeniedHttpException($e->getMessage(), $e);
        }
    }

    /**
     * Pusher user authentication (pusher:signin), for Laravel versions whose
     * Broadcaster resolves the authenticated user (Broadcast::userRoutes(),
     * 9.x and later); Laravel 8 never calls it.
     *
     * @param  \Illuminate\Http\Request  $request
     * @return array|null
     */
    public function resolveAuthenticatedUser($request)
    {
        if (! method_exists(Broadcaster::class, 'resolveAuthenticatedUser')) {
            return null;
        }
        if (! $user = parent::resolveAuthenticatedUser($request)) {
            return null;
        }
        $data = json_encode($user, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);

        try {
            return \Realtime\pusherUserAuth((string) $request->socket_id, $data);
        } catch (\ValueError $e) {
            throw new AccessDeniedHttpException($e->getMessage(), $e);
        }
    }

    /**
     * Broadcast the given event.
     *
     * @param  array  $channels
     * @param  string  $event
     * @param  array  $payload
     * @return void
     *
     * @throws \Illuminate\Broadcasting\BroadcastException
     */
    public function broadcast(array $channels, $event, array $payload = [])
    {
        // toOthers(): Echo's X-Socket-ID, which is the sender's connection id.
        // (Plain PHP rather than Arr:: and Str:: helpers: this runs once per
        // event, and they would cost more than the broadcast itself.)
        $socket = $payload['socket'] ?? null;
        unset($payload['socket']);
        $except = is_string($socket) && preg_match('/^\d{1,20}\.\d{1,20}$/', $socket) ? $socket : null;

        $shared = [];
        $users = [];
        $seen = [];
        foreach ($channels as $channel) {
            $name = (string) $channel;
            if (isset($seen[$name])) {
                continue;
            }
            $seen[$name] = true;
            if (str_starts_with($name, 'private-encrypted-')) {
                // Pusher's SDK encrypts these with the app's master key; this
                // driver does not, and sent in clear they would fail at every
                // client. Refused before anything is sent.
                throw new BroadcastException("realtime: {$name}: private-encrypted- channels are not supported by the realtime driver (use the pusher driver for them)");
            }
            if (str_starts_with($name, self::USER_CHANNEL_PREFIX)) {
                $users[] = substr($name, strlen(self::USER_CHANNEL_PREFIX));
            } else {
                $shared[] = $name;
            }
        }

        try {
            if (count($shared) <= self::CHANNELS_PER_CALL) {
                if ($shared) {
                    \Realtime\broadcast($shared, $payload, $event, $except);
                }
            } else {
                foreach (array_chunk($shared, self::CHANNELS_PER_CALL) as $chunk) {
                    \Realtime\broadcast($chunk, $payload, $event, $except);
                }
            }
            // Every connection of the user: signed-in Pusher clients and the
            // user's native connections.
            foreach ($users as $user) {
                \Realtime\broadcastToUser($user, $payload, $event);
            }
        } catch (\Realtime\Exception | \ValueError | \TypeError $e) {
            throw new BroadcastException(sprintf('realtime: %s', $e->getMessage()), 0, $e);
        }
    }

    /** JSON, or JSONP when the client asked with ?callback= (as PusherBroadcaster does). */
    protected function respond($request, array $answer)
    {
        if (! $request->input('callback', false)) {
            return $answer;
        }

        return response()->json($answer)->withCallback($request->callback);
    }
}
