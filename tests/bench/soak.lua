-- soak.lua: the wrk script of `make soak` (tests/bench/soak.sh).
--
--   wrk ... -s soak.lua URL -- PATIENTS OBSERVATIONS BODY
--
-- Every request is drawn at random from a fixed mix:
--
--   45%  read by id        GET Patient/<id> or Observation/<id>, ids from
--                          the files PATIENTS and OBSERVATIONS (one id a
--                          line)
--   20%  search            one of a few searches on the loaded data:
--                          family name, Observation subject, code with
--                          _count, birthdate range with _summary=count
--   15%  create            POST Patient, the body in the file BODY
--   20%  update            PUT Patient/soak-<thread>-<n>, n cycling over
--                          UPDATE_IDS ids per thread, without If-Match
--                          (update, or create on the first pass), so that
--                          versions pile up on the same resources
--
-- done() prints one line, "SOAK {json}": requests, seconds, the answers
-- by class (2xx, 3xx, 4xx, 5xx; wrk itself only counts those over 399
-- together), the requests sent of each kind, socket errors, p50 and p99
-- latency (µs).

local UPDATE_IDS = 200
local FAMILIES = { "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia",
    "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez" }
local CODES = { "8302-2", "29463-7", "39156-5", "8867-4", "9279-1", "2339-0",
    "2093-3" }

local threads = {}
local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("thread_no", counter)
	table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state).  The
-- counters are globals so that done() can read them with thread:get().
c2xx, c3xx, c4xx, c5xx = 0, 0, 0, 0
reads, searches, creates, updates = 0, 0, 0, 0
local base, patients, observations, body, next_update

-- read_lines, read_all: tests/bench/files.lua, from this script's folder.
local files = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or
    "./") .. "files.lua")
local read_lines, read_all = files.lines, files.all

local function pick(t)
	return t[math.random(#t)]
end

local function search_path()
	local r = math.random(4)
	if r == 1 then
		return "Patient?family=" .. pick(FAMILIES) .. "&_count=10"
	elseif r == 2 then
		return "Observation?subject=Patient/" .. pick(patients)
	elseif r == 3 then
		return "Observation?code=http://loinc.org|" .. pick(CODES) ..
		    "&_count=20"
	end
	local y = math.random(1930, 2010)
	return string.format("Patient?birthdate=ge%d-01-01&birthdate=lt%d-01-01" ..
	    "&_summary=count", y, y + 5)
end

function init(args)
	base = wrk.path
	if base:sub(-1) ~= "/" then base = base .. "/" end
	patients = read_lines(args[1])
	observations = read_lines(args[2])
	body = read_all(args[3])
	next_update = 0
	math.randomseed(os.time() * 100 + thread_no)
end

function request()
	local r = math.random(100)
	local req
	local hdr = { ["Accept"] = "application/fhir+json" }
	if r <= 45 then
		reads = reads + 1
		if math.random(2) == 1 then
			req = wrk.format("GET", base .. "Patient/" .. pick(patients), hdr)
		else
			req = wrk.format("GET", base .. "Observation/" ..
			    pick(observations), hdr)
		end
	elseif r <= 65 then
		searches = searches + 1
		req = wrk.format("GET", base .. search_path(), hdr)
	elseif r <= 80 then
		creates = creates + 1
		hdr["Content-Type"] = "application/fhir+json"
		req = wrk.format("POST", base .. "Patient", hdr, body)
	else
		local id = string.format("soak-%d-%d", thread_no, next_update)
		updates = updates + 1
		next_update = (next_update + 1) % UPDATE_IDS
		hdr["Content-Type"] = "application/fhir+json"
		req = wrk.format("PUT", base .. "Patient/" .. id, hdr,
		    (body:gsub("^{", '{"id":"' .. id .. '",', 1)))
	end
	return req
end

function response(status, headers, body)
	if status >= 500 then c5xx = c5xx + 1
	elseif status >= 400 then c4xx = c4xx + 1
	elseif status >= 300 then c3xx = c3xx + 1
	elseif status >= 200 then c2xx = c2xx + 1
	end
end

function done(summary, latency, requests)
	local sum = { c2xx = 0, c3xx = 0, c4xx = 0, c5xx = 0, reads = 0,
	    searches = 0, creates = 0, updates = 0 }
	local e = summary.errors
	for _, t in ipairs(threads) do
		for k, _ in pairs(sum) do
			sum[k] = sum[k] + (t:get(k) or 0)
		end
	end
	io.write(string.format('SOAK {"requests":%d,"seconds":%.1f,' ..
	    '"2xx":%d,"3xx":%d,"4xx":%d,"5xx":%d,"reads":%d,"searches":%d,' ..
	    '"creates":%d,"updates":%d,"socket_errors":%d,"timeouts":%d,' ..
	    '"p50_us":%d,"p99_us":%d}\n',
	    summary.requests, summary.duration / 1e6, sum.c2xx, sum.c3xx,
	    sum.c4xx, sum.c5xx, sum.reads, sum.searches, sum.creates,
	    sum.updates, e.connect + e.read + e.write + e.timeout, e.timeout,
	    latency:percentile(50), latency:percentile(99)))
end
