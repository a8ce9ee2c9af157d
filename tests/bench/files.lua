-- files.lua: what the wrk scripts of tests/bench/ (bench.lua, soak.lua)
-- read from files.  Each loads it with dofile() from its own folder:
--
--   local files = dofile(debug.getinfo(1, "S").source:match("^@(.*/)")
--       .. "files.lua")

local files = {}

-- The non-empty lines of file, in order.
function files.lines(file)
	local t = {}
	for line in io.lines(file) do
		if line ~= "" then t[#t + 1] = line end
	end
	return t
end

-- The whole of file.
function files.all(file)
	local f = assert(io.open(file, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

return files
