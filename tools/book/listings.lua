-- listings.lua: code listings cut from the repository's real files.
--
-- A chapter writes
--
--     ```{.c include="lib/net.c" snippet="write-all"}
--     ```
--
-- and the empty block becomes the lines between the file's snippet markers (a line
-- "// snippet write-all" and the matching "// end snippet"), as they stand at the end
-- of the chapter being rendered: the chapter markers of CONTRIBUTING.md are applied
-- (lines a later chapter adds are hidden, lines chapter MM replaces are hidden from
-- chapter MM on) and every marker line is dropped. Without `snippet` the whole file
-- is shown. The common indentation of the lines shown is removed, and the listing
-- gets a caption: the path and the function or struct the snippet defines or sits in.
--
-- The build fails, naming the file, the snippet and the chapter, when a file or a
-- snippet is missing, when markers are unbalanced, when a chapter shows a file that
-- a later chapter adds, and (check_unused, for the whole book) when a snippet defined
-- anywhere in the source folders is shown nowhere.
--
-- book.lua uses this file as a module. It also works alone on one chapter, for a
-- quick look (the chapter number comes from the file name):
--
--     pandoc chapters/01-blocking/01-blocking.md --lua-filter tools/book/listings.lua -o /tmp/ch01.html

local here = (PANDOC_SCRIPT_FILE and PANDOC_SCRIPT_FILE:match("^(.*/)")) or "./"
local lib = package.loaded["axle-book.lib"] or dofile(here .. "lib.lua")

local L = {}

-- The last chapter: what a block outside any chapter (front matter, appendices) sees.
L.END = 99

local MARK_OWNER = "^%s*//@ (%d%d)%s*$"
local MARK_OPEN = "^%s*//> (%d%d)%s*$"
local MARK_OPEN_UNTIL = "^%s*//> (%d%d)%.%.(%d%d)%s*$"
local MARK_CLOSE = "^%s*//< (%d%d)%s*$"
-- Inside a `//> NN..MM` region the lines are the chapter NN..MM-1 version of the code,
-- kept as `//| ` comments so the live tree compiles only the final version.
local RETIRED = "^(%s*)//| ?"
local SNIPPET_OPEN = "^%s*// snippet (%S+)%s*$"
local SNIPPET_CLOSE = "^%s*// end snippet%s*$"

local LANGUAGES = {
    c = "c", h = "c", sh = "bash", mk = "makefile", lua = "lua", md = "markdown",
    py = "python", dot = "dot", gp = "gnuplot", awk = "awk", css = "css",
}

-- ---------------------------------------------------------------------------------
-- Reading a file: markers, snippets, and the C definitions they sit in

-- The chapter a file belongs to by its folder (chapters/NN-*, exercises/NN-*, ...).
local function folder_owner(path)
    local n = path:match("^chapters/(%d%d)%-") or path:match("^exercises/(%d%d)%-")
        or path:match("^solutions/(%d%d)%-") or path:match("^tests/(%d%d)%-")
    return n and tonumber(n) or nil
end

-- Top-level definitions of a C file: {kind, name, first, last} for each function,
-- struct, union or enum body, found by counting braces outside comments, strings
-- and preprocessor lines. Good enough for captions; not a C parser.
local function c_definitions(lines)
    local defs = {}
    local depth, in_comment, pending, current = 0, false, "", nil
    local continued_directive = false
    for ln, raw in ipairs(lines) do
        local line = raw
        if continued_directive or (depth == 0 and not in_comment and line:match("^%s*#")) then
            continued_directive = line:match("\\%s*$") ~= nil
            line = ""
        end
        local i, n = 1, #line
        while i <= n do
            local c, two = line:sub(i, i), line:sub(i, i + 1)
            if in_comment then
                if two == "*/" then
                    in_comment = false
                    i = i + 1
                end
            elseif two == "/*" then
                in_comment = true
                i = i + 1
            elseif two == "//" then
                break
            elseif c == '"' or c == "'" then
                local j = i + 1
                while j <= n and line:sub(j, j) ~= c do
                    if line:sub(j, j) == "\\" then
                        j = j + 1
                    end
                    j = j + 1
                end
                if depth == 0 then
                    pending = pending .. " 0 "
                end
                i = j
            elseif c == "{" then
                if depth == 0 then
                    local text = pending:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
                    local kind, name
                    local tag_kind, tag = text:match("(%a+) ([%a_][%w_]*)$")
                    if tag_kind == "struct" or tag_kind == "union" or tag_kind == "enum" then
                        kind, name = tag_kind, tag
                    else
                        local before, fn = text:match("^(.-)([%a_][%w_]*) ?%b()$")
                        if fn and before ~= "" and not before:match("=%s*$") then
                            kind, name = "function", fn
                        end
                    end
                    current = {kind = kind, name = name, first = ln}
                end
                depth = depth + 1
            elseif c == "}" then
                depth = depth - 1
                if depth == 0 then
                    if current and current.name then
                        current.last = ln
                        defs[#defs + 1] = current
                    end
                    current, pending = nil, ""
                end
            elseif c == ";" and depth == 0 then
                pending = ""
            elseif depth == 0 then
                pending = pending .. c
            end
            i = i + 1
        end
        if depth == 0 then
            pending = pending .. " "
        end
    end
    return defs
end

local function def_label(def)
    if def.kind == "function" then
        return def.name .. "()"
    end
    return def.kind .. " " .. def.name
end

-- Parses a file once: its lines, its owner chapter, its snippets. Structural errors
-- (unbalanced markers, a bad snippet name, a name used twice) fail the build here,
-- whoever asks.
local parsed_files = {}

local function parse(path)
    if parsed_files[path] then
        return parsed_files[path]
    end
    local text = lib.read_file(path)
    if not text then
        return nil
    end
    local lines = lib.split_lines(text)
    local f = {path = path, lines = lines, snippets = {}, order = {}}
    f.owner = folder_owner(path)
    for i = 1, math.min(5, #lines) do
        local n = lines[i]:match(MARK_OWNER)
        if n then
            f.owner = tonumber(n)
        end
    end
    f.c_like = path:match("%.[ch]$") ~= nil

    local regions, open, retired = {}, {}, {}
    for ln, line in ipairs(lines) do
        local from = line:match(MARK_OPEN)
        local ufrom, uuntil = line:match(MARK_OPEN_UNTIL)
        local close = line:match(MARK_CLOSE)
        local sname = line:match(SNIPPET_OPEN)
        if from or ufrom then
            regions[#regions + 1] = tonumber(from or ufrom)
            retired[#regions] = ufrom ~= nil or retired[#regions - 1]
        elseif close then
            if #regions == 0 then
                lib.fail("%s:%d: '//< %s' closes no open '//>' marker", path, ln, close)
            end
            retired[#regions] = nil
            regions[#regions] = nil
        elseif retired[#regions] and line:match("%S") and not line:match(RETIRED) then
            lib.fail("%s:%d: a line inside a '//> NN..MM' region must be retired as '//| code'", path, ln)
        elseif sname then
            if not sname:match("^[a-z0-9%-]+$") then
                lib.fail("%s:%d: snippet name '%s' must be made of a-z, 0-9 and '-'", path, ln, sname)
            end
            if f.snippets[sname] then
                lib.fail("%s:%d: snippet '%s' is already defined on line %d", path, ln, sname,
                    f.snippets[sname].first)
            end
            local s = {name = sname, first = ln, owner = regions[#regions] or f.owner}
            f.snippets[sname] = s
            f.order[#f.order + 1] = sname
            open[#open + 1] = s
        elseif line:match(SNIPPET_CLOSE) then
            if #open == 0 then
                lib.fail("%s:%d: '// end snippet' without a '// snippet NAME' before it", path, ln)
            end
            open[#open].last = ln
            open[#open] = nil
        end
    end
    if #open > 0 then
        lib.fail("%s:%d: snippet '%s' has no '// end snippet'", path, open[#open].first, open[#open].name)
    end
    if #regions > 0 then
        lib.fail("%s: a '//> %02d' marker is never closed", path, regions[#regions])
    end
    if f.c_like then
        f.defs = c_definitions(lines)
    end
    parsed_files[path] = f
    return f
end

L.parse = parse

-- The lines of file f (or of its snippet `name`) as they stand at the end of chapter
-- num: marker lines dropped, lines of later chapters hidden.
local function visible_lines(f, num, name)
    local out = {}
    local hidden, retired, depth = {[0] = false}, {[0] = false}, 0
    local capturing = name == nil
    local snippet_depth = 0
    local target_depth
    for ln, line in ipairs(f.lines) do
        local from = line:match(MARK_OPEN)
        local ufrom, uuntil = line:match(MARK_OPEN_UNTIL)
        if ln <= 5 and line:match(MARK_OWNER) then
            -- dropped
        elseif from or ufrom then
            local first = tonumber(from or ufrom)
            local until_ch = uuntil and tonumber(uuntil) or math.huge
            depth = depth + 1
            hidden[depth] = hidden[depth - 1] or num < first or num >= until_ch
            retired[depth] = retired[depth - 1] or uuntil ~= nil
        elseif line:match(MARK_CLOSE) then
            depth = depth - 1
        elseif line:match(SNIPPET_OPEN) then
            snippet_depth = snippet_depth + 1
            if name and line:match(SNIPPET_OPEN) == name then
                capturing, target_depth = true, snippet_depth
                if hidden[depth] then
                    return nil, "hidden"
                end
            end
        elseif line:match(SNIPPET_CLOSE) then
            if target_depth == snippet_depth then
                capturing, target_depth = false, nil
            end
            snippet_depth = snippet_depth - 1
        elseif capturing and not hidden[depth] then
            out[#out + 1] = retired[depth] and line:gsub(RETIRED, "%1") or line
        end
    end
    return out
end

-- Drops blank lines at both ends and the indentation every remaining line shares.
local function tidy(lines)
    while #lines > 0 and lines[1]:match("^%s*$") do
        table.remove(lines, 1)
    end
    while #lines > 0 and lines[#lines]:match("^%s*$") do
        lines[#lines] = nil
    end
    local common
    for _, line in ipairs(lines) do
        if not line:match("^%s*$") then
            local indent = line:match("^[ \t]*")
            if common == nil then
                common = indent
            else
                local k = 0
                while k < #common and k < #indent and common:sub(k + 1, k + 1) == indent:sub(k + 1, k + 1) do
                    k = k + 1
                end
                common = common:sub(1, k)
            end
        end
    end
    if common and #common > 0 then
        for i, line in ipairs(lines) do
            lines[i] = line:sub(#common + 1)
        end
    end
    return lines
end

-- What the caption names: the definitions a snippet holds, or the one it sits in.
local function caption_context(f, s)
    if not f.defs or not s then
        return nil
    end
    local inside = {}
    for _, d in ipairs(f.defs) do
        if d.first > s.first and d.first < s.last then
            inside[#inside + 1] = def_label(d)
        elseif d.first < s.first and d.last > s.first then
            return "in " .. def_label(d)
        end
    end
    if #inside > 3 then
        return table.concat(inside, ", ", 1, 3) .. ", ..."
    end
    if #inside > 0 then
        return table.concat(inside, ", ")
    end
    return nil
end

-- ---------------------------------------------------------------------------------
-- The code block filter

-- Snippets shown so far, as "path#name".
L.shown = {}

local function chapter_name(ctx)
    return ctx.label or "the book"
end

-- Turns an include block into a listing; ctx = {num, label, file} names the chapter
-- that shows it. Returns nil for a block that is not an include.
function L.codeblock(block, ctx)
    local path = block.attributes["include"]
    if not path then
        return nil
    end
    local name = block.attributes["snippet"]
    local where = string.format("%s (%s)", ctx.file or "?", chapter_name(ctx))
    if block.text:match("%S") then
        lib.fail("%s: the block that includes %s must be empty; the file provides its text", where, path)
    end
    local f = parse(path)
    if not f then
        lib.fail("%s: included file %s does not exist%s", where, path,
            name and (" (looking for snippet '" .. name .. "')") or "")
    end
    if f.owner and f.owner > ctx.num then
        lib.fail("%s shows %s, but that file belongs to chapter %02d, which comes later", where, path, f.owner)
    end
    local s
    if name then
        s = f.snippets[name]
        if not s then
            local known = #f.order > 0 and table.concat(f.order, ", ") or "none"
            lib.fail("%s: snippet '%s' not found in %s (snippets there: %s)", where, name, path, known)
        end
    end
    local lines, why = visible_lines(f, ctx.num, name)
    if not lines then
        lib.fail("%s: snippet '%s' in %s sits in lines that a chapter other than %s has or replaces",
            where, name, path, chapter_name(ctx))
    end
    lines = tidy(lines)
    if #lines == 0 then
        lib.fail("%s: snippet '%s' in %s shows no lines at %s", where, name or "(whole file)", path, chapter_name(ctx))
    end
    if name then
        L.shown[path .. "#" .. name] = true
    end

    local classes = {}
    for _, c in ipairs(block.classes) do
        classes[#classes + 1] = c
    end
    if #classes == 0 then
        local ext = path:match("%.([%w]+)$") or (path:match("Makefile$") and "mk")
        classes[1] = LANGUAGES[ext or ""] or "default"
    end
    local attrs = {}
    for k, v in pairs(block.attributes) do
        if k ~= "include" and k ~= "snippet" and k ~= "caption" then
            attrs[k] = v
        end
    end
    local code = pandoc.CodeBlock(table.concat(lines, "\n"), pandoc.Attr(block.identifier, classes, attrs))

    local caption = {pandoc.Code(path)}
    local context = block.attributes["caption"] or caption_context(f, s)
    if context then
        caption[#caption + 1] = pandoc.Space()
        caption[#caption + 1] = pandoc.Str("·")
        caption[#caption + 1] = pandoc.Space()
        caption[#caption + 1] = pandoc.Span(pandoc.Str(context), pandoc.Attr("", {"listing-what"}))
    end
    return pandoc.Div({pandoc.Div({pandoc.Plain(caption)}, pandoc.Attr("", {"listing-caption"})), code},
        pandoc.Attr("", {"listing"}))
end

-- ---------------------------------------------------------------------------------
-- Every snippet defined under the given folders, for the "shown nowhere" check:
-- a list of {path, name, owner}.
function L.defined_snippets(roots, excludes)
    local existing = {}
    for _, r in ipairs(roots) do
        if lib.exists(r) then
            existing[#existing + 1] = lib.shell_quote(r)
        end
    end
    local found = {}
    if #existing == 0 then
        return found
    end
    local out = lib.capture("grep -rlE --include='*.c' --include='*.h' "
        .. "'^[[:space:]]*// (snippet|end snippet)' " .. table.concat(existing, " ") .. " 2>/dev/null") or ""
    local paths = {}
    for p in out:gmatch("[^\n]+") do
        local skip = false
        for _, e in ipairs(excludes or {}) do
            if p:sub(1, #e) == e then
                skip = true
            end
        end
        if not skip then
            paths[#paths + 1] = p
        end
    end
    table.sort(paths)
    for _, p in ipairs(paths) do
        local f = parse(p)
        for _, name in ipairs(f.order) do
            found[#found + 1] = {path = p, name = name, owner = f.snippets[name].owner}
        end
    end
    return found
end

-- Fails the build if a snippet is shown nowhere. `present(n)` says whether chapter n
-- is in the book: a snippet that belongs to a chapter not written yet is only noted.
-- With draft set, nothing fails.
function L.check_unused(roots, excludes, present, draft)
    local missing, pending = {}, {}
    for _, s in ipairs(L.defined_snippets(roots, excludes)) do
        if not L.shown[s.path .. "#" .. s.name] then
            local desc = string.format("'%s' in %s%s", s.name, s.path,
                s.owner and string.format(" (chapter %02d)", s.owner) or "")
            if s.owner and not present(s.owner) then
                pending[#pending + 1] = desc
            else
                missing[#missing + 1] = desc
            end
        end
    end
    if #pending > 0 then
        lib.warn("%d snippet(s) wait for chapters not written yet: %s", #pending, table.concat(pending, ", "))
    end
    if #missing > 0 then
        local msg = "snippets defined but shown nowhere in the book (show each in its chapter with "
            .. "```{.c include=\"PATH\" snippet=\"NAME\"}, or remove its markers): "
            .. table.concat(missing, ", ")
        if draft then
            lib.warn("%s", msg)
        else
            lib.fail("%s", msg)
        end
    end
end

-- ---------------------------------------------------------------------------------
-- Run alone as a filter: the chapter number comes from the input file's name.

if PANDOC_SCRIPT_FILE and PANDOC_SCRIPT_FILE:match("listings%.lua$") then
    local input = (PANDOC_STATE.input_files or {})[1] or ""
    local nn = input:match("(%d%d)%-[^/]*%.md$")
    local ctx = {
        num = nn and tonumber(nn) or L.END,
        label = nn and ("chapter " .. nn) or nil,
        file = input,
    }
    return {{CodeBlock = function(b) return L.codeblock(b, ctx) end}}
end

return L
