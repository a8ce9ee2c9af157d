# port.sh: free_port, shared by the HTTP tests (lib.sh) and make bench.
#
# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
# Another process may take it before it is bound: callers retry.
free_port() {
	local p
	while :; do
		p=$(( (RANDOM % 30000) + 20000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}
