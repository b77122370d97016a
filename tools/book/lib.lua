-- lib.lua: helpers the book's filters share (errors, files, commands, the figure
-- cache). Loaded with dofile() by book.lua and the other filter modules; pandoc 2.17,
-- Lua 5.3.
--
-- Every problem the book build finds is reported by lib.fail(), which raises a Lua
-- error without position: pandoc prints it and exits non-zero (83), so `make book`
-- stops with the message. Messages start with "book:" and name the file, the
-- chapter and the thing that is missing.

local lib = {}

-- The first failure's message, kept so that book.lua can report it alone: an error
-- raised inside pandoc.walk_block reaches the top wrapped in pandoc's own text.
lib.failure = nil

function lib.fail(fmt, ...)
    local msg = "book: " .. string.format(fmt, ...)
    lib.failure = lib.failure or msg
    error(msg, 0)
end

function lib.warn(fmt, ...)
    io.stderr:write("book: note: " .. string.format(fmt, ...) .. "\n")
end

function lib.read_file(path)
    local f = io.open(path, "rb")
    if not f then
        return nil
    end
    local text = f:read("a")
    f:close()
    return text
end

function lib.write_file(path, text)
    local f = io.open(path, "wb")
    if not f then
        return false
    end
    f:write(text)
    f:close()
    return true
end

function lib.exists(path)
    local f = io.open(path, "rb")
    if f then
        f:close()
        return true
    end
    return false
end

-- The lines of text, without their "\n"; a final "\n" does not make an empty line.
function lib.split_lines(text)
    local lines = {}
    for line in (text .. "\n"):gmatch("(.-)\r?\n") do
        lines[#lines + 1] = line
    end
    if text:sub(-1) == "\n" then
        lines[#lines] = nil
    end
    return lines
end

function lib.trim(s)
    return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

function lib.shell_quote(s)
    return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Runs a shell command and returns its standard output, or nil if it failed.
function lib.capture(command)
    local p = io.popen(command, "r")
    local out = p:read("a")
    local ok = p:close()
    return ok and out or nil, out
end

-- Runs cmd with args, feeding it input; fails the build, naming what it was doing,
-- if the command fails. The command's own error messages reach the terminal.
function lib.run(cmd, args, input, what)
    local ok, out = pcall(pandoc.pipe, cmd, args, input or "")
    if not ok then
        lib.fail("%s failed while rendering %s: %s", cmd, what, tostring(out))
    end
    return out
end

-- A figure cache under the build folder (metadata book-cache): rendering the same
-- source with the same tool twice gives the same SVG, so a rebuild can skip it.
lib.cache_dir = nil

function lib.cached(key_parts, produce)
    local key = pandoc.utils.sha1(table.concat(key_parts, "\0"))
    if lib.cache_dir then
        local hit = lib.read_file(lib.cache_dir .. "/" .. key .. ".svg")
        if hit then
            return hit, key
        end
    end
    local svg = produce()
    if lib.cache_dir then
        -- Written aside and renamed, so two builds at once never read half a file.
        os.execute("mkdir -p " .. lib.shell_quote(lib.cache_dir))
        local final = lib.cache_dir .. "/" .. key .. ".svg"
        local tmp = final .. "." .. tostring(os.time()) .. tostring(math.random(1e9))
        if lib.write_file(tmp, svg) then
            os.rename(tmp, final)
        end
    end
    return svg, key
end

-- SVG that every output format accepts: no DOCTYPE (epubcheck rejects the external
-- DTD), and no currentColor (weasyprint cannot paint it; gnuplot emits it).
function lib.clean_svg(svg)
    svg = svg:gsub("<!DOCTYPE.->%s*", "")
    svg = svg:gsub("currentColor", "#000000")
    return svg
end

-- Puts an SVG into pandoc's media bag and returns the name to use as an image src.
-- Self-contained HTML embeds it as a data: URI; EPUB stores it as a file.
function lib.add_svg(stem, svg, key)
    local name = "fig/" .. stem:gsub("[^%w%-]", "-") .. "-" .. key:sub(1, 10) .. ".svg"
    pandoc.mediabag.insert(name, "image/svg+xml", svg)
    return name
end

function lib.meta_string(meta, key, default)
    local v = meta[key]
    if v == nil then
        return default
    end
    return pandoc.utils.stringify(v)
end

function lib.meta_list(meta, key)
    local v = meta[key]
    local out = {}
    if v == nil then
        return out
    end
    if type(v) == "table" and (v.t == "MetaList" or v[1] ~= nil) then
        for _, item in ipairs(v) do
            out[#out + 1] = pandoc.utils.stringify(item)
        end
    elseif pandoc.utils.stringify(v) ~= "" then
        out[1] = pandoc.utils.stringify(v)
    end
    return out
end

function lib.meta_bool(meta, key)
    local v = meta[key]
    if v == nil then
        return false
    end
    if type(v) == "boolean" then
        return v
    end
    local s = pandoc.utils.stringify(v)
    return s == "true" or s == "yes" or s == "1"
end

package.loaded["axle-book.lib"] = lib
return lib
