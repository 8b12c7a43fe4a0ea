# Sourced by the bench scripts that run php -S with the extension on free
# loopback ports (segment_publish.sh, laravel_broadcast.sh).

# A free TCP port on 127.0.0.1.
free_port() {
	php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);'
}

# The EXIT trap: stops $server (php -S, started under setsid so that its
# PHP_CLI_SERVER_WORKERS go too: they outlive a parent killed alone) if it
# runs, removes the named segment of $hub_port's app (it outlives the
# server by design: this one is the bench's) and $tmp.
php_server_cleanup() {
	if [[ -n ${server:-} ]]; then
		kill -- -"$server" 2>/dev/null || kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -f /dev/shm/realtime."$hub_port".*
	rm -rf "$tmp"
}
