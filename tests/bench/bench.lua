-- bench.lua: the wrk script of `make bench` (tests/bench/bench.sh).
--
--   wrk ... -s bench.lua URL -- MODE [ARGS]
--
--   get                   GET the URL (static request)
--   read FILE             GET URL .. a random line of FILE ("Patient/<id>")
--   create FILE           POST the body in FILE to the URL
--   update FIRST N THREADS FILE
--                         PUT URL .. "Patient/bench-upd-NNNNN" with If-Match,
--                         the body FILE's with that id: ids FIRST to
--                         FIRST+N-1, all at version 1, are split among the
--                         THREADS threads; a thread sends each of its ids
--                         with the version the last answer for that id gave
--                         (its ETag), so no two requests for one id are ever
--                         in flight together
--
-- Every mode counts the answers outside 2xx (wrk itself only counts those
-- over 399) and done() prints one line, "BENCH {json}", with requests,
-- seconds, rate, p50 and p99 latency (µs), non2xx, socket errors and bytes
-- per response.  Every mode uses the same response() so that the ceilings
-- and Ember's figures cost wrk the same.

local threads = {}
local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("thread_no", counter)
	table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state).
non2xx = 0
responses = 0
local mode, base, paths, queue, head, tail, body_template, sent

-- read_lines, read_all: tests/bench/files.lua, from this script's folder.
local files = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or
    "./") .. "files.lua")
local read_lines, read_all = files.lines, files.all

local function read_request()
	return wrk.format("GET", base .. paths[math.random(#paths)],
	    { ["Accept"] = accept })
end

local function update_body(id, n)
	-- The update Patient: the create body with this id and one field
	-- that differs on every write.
	local b = body_template:gsub("^{", '{"id":"' .. id .. '",', 1)
	return (b:gsub('"birthDate":"[^"]*"', string.format(
	    '"birthDate":"19%02d-%02d-%02d"', n % 100, n % 12 + 1, n % 28 + 1), 1))
end

local function update_request()
	local e
	if head > tail then
		-- Every id in flight: cannot happen with N far above the
		-- connections; sent as a request that fails the row.
		return wrk.format("GET", base .. "Patient/bench-upd-exhausted")
	end
	e = queue[head]
	queue[head] = nil
	head = head + 1
	sent = sent + 1
	return wrk.format("PUT", base .. "Patient/" .. e.id, {
	    ["Accept"] = "application/fhir+json",
	    ["Content-Type"] = "application/fhir+json",
	    ["If-Match"] = 'W/"' .. e.v .. '"' }, update_body(e.id, sent))
end

function init(args)
	mode = args[1] or "get"
	base = wrk.path
	if base:sub(-1) ~= "/" then base = base .. "/" end
	math.randomseed(os.time() * 100 + thread_no)
	wrk.headers["Accept"] = "application/fhir+json"
	accept = "application/fhir+json"
	if mode == "read" or mode == "readxml" then
		if mode == "readxml" then
			accept = "application/fhir+xml"
		end
		paths = read_lines(args[2])
		request = read_request
	elseif mode == "create" then
		wrk.method = "POST"
		wrk.body = read_all(args[2])
		wrk.headers["Content-Type"] = "application/fhir+json"
	elseif mode == "update" then
		local first, n = tonumber(args[2]), tonumber(args[3])
		local per = math.floor(n / tonumber(args[4]))
		body_template = read_all(args[5])
		queue, head, tail, sent = {}, 1, 0, 0
		for i = first + (thread_no - 1) * per, first + thread_no * per - 1 do
			tail = tail + 1
			queue[tail] = { id = string.format("bench-upd-%05d", i), v = 1 }
		end
		request = update_request
	end
end

function response(status, headers, body)
	responses = responses + 1
	if status < 200 or status > 299 then
		non2xx = non2xx + 1
		return
	end
	if mode == "update" then
		local id = body:match('"id":"(bench%-upd%-%d+)"')
		local etag = headers["ETag"] or headers["etag"] or ""
		local v = etag:match('W/"(%d+)"')
		if id and v then
			tail = tail + 1
			queue[tail] = { id = id, v = tonumber(v) }
		else
			non2xx = non2xx + 1
		end
	end
end

function done(summary, latency, requests)
	local bad, seen = 0, 0
	local e = summary.errors
	for _, t in ipairs(threads) do
		bad = bad + (t:get("non2xx") or 0)
		seen = seen + (t:get("responses") or 0)
	end
	local seconds = summary.duration / 1e6
	io.write(string.format('BENCH {"requests":%d,"seconds":%.3f,"rate":%.1f,' ..
	    '"p50_us":%d,"p99_us":%d,"non2xx":%d,"responses":%d,' ..
	    '"socket_errors":%d,"bytes_per_response":%.0f}\n',
	    summary.requests, seconds, summary.requests / seconds,
	    latency:percentile(50), latency:percentile(99), bad, seen,
	    e.connect + e.read + e.write + e.timeout,
	    summary.requests > 0 and summary.bytes / summary.requests or 0))
end
