-- book.lua: the filter that turns book.md into the whole book (pandoc 2.17, Lua 5.3).
--
-- book.md holds the metadata, the front matter and the chapter order:
--
--     chapters: ["00", "01", ...]          each names a folder chapters/NN-slug/
--     appendices: [appendix-a, ...]        ... or chapters/appendix-a-slug/
--
-- The text of a chapter is chapters/NN-slug/NN-slug.md. A chapter in the list whose
-- text does not exist yet is left out with a note, so the book builds while the
-- course is being written. For each chapter this filter
--
--   * numbers its headings itself ("3", "3.1", "A.2"), so that chapter 03 is
--     numbered 3 whatever comes before it; front matter headings are unnumbered;
--   * keeps its heading ids unique across the book (a repeated id, such as
--     "pitfalls" in every chapter, becomes "pitfalls-03"), fixing links to it;
--   * expands listings (listings.lua), diagrams (figures.lua) and benchmark numbers
--     and plots (bench.lua), knowing which chapter it is in;
--   * resolves the course's own link targets:
--         [](ch:04)  [the loop](ch:04#the-loop)   a chapter or one of its sections:
--                                                  plain text while it is unwritten
--         [](ex:01-writev-all)                     an exercise from exercises/manifest
--         [](file:tests/01-blocking/ex_writev_all.c)   a file that must exist
--         [](file:tests/01-blocking/ex_writev_all.c#some_test)   ... and contain that text
--   * expands `::: exercises :::` into the table of every exercise in the manifest.
--
-- At the end it checks the whole book: every `#id` link resolves, every exercise's
-- `section` exists in its chapter, and every snippet in the source folders is shown.
--
-- Metadata the Makefile passes: book-cache (figure cache folder), bench-results
-- (path of results.tsv), book-draft (true: snippets shown nowhere only warn).
-- book.md sets snippet-roots and snippet-exclude (where the "shown nowhere" check
-- looks); the test fixture also sets chapters-dir and exercise-manifest.

local here = (PANDOC_SCRIPT_FILE and PANDOC_SCRIPT_FILE:match("^(.*/)")) or "./"
local lib = package.loaded["axle-book.lib"] or dofile(here .. "lib.lua")
local listings = dofile(here .. "listings.lua")
local figures = dofile(here .. "figures.lua")
local bench = dofile(here .. "bench.lua")

local function has_class(el, class)
    for _, c in ipairs(el.classes or {}) do
        if c == class then
            return true
        end
    end
    return false
end

local function walk(blocks, filter)
    return pandoc.walk_block(pandoc.Div(blocks), filter).content
end

-- ---------------------------------------------------------------------------------
-- Finding the chapters

local chapters = {}    -- in book order, present or not
local by_key = {}      -- "04", "A", "appendix-a" -> chapter

local function find_chapters(meta)
    local dir = lib.meta_string(meta, "chapters-dir", "chapters")
    local listing = lib.capture("ls -1 " .. lib.shell_quote(dir) .. " 2>/dev/null") or ""
    local folders = {}
    for name in listing:gmatch("[^\n]+") do
        folders[#folders + 1] = name
    end
    local function add(entry, appendix)
        local ch = {entry = entry}
        for _, folder in ipairs(folders) do
            if folder == entry or folder:sub(1, #entry + 1) == entry .. "-" then
                ch.folder = folder
            end
        end
        if appendix then
            local letter = entry:match("^appendix%-(%a)") or entry:sub(1, 1)
            ch.number, ch.num, ch.label = letter:upper(), listings.END, "appendix " .. letter:upper()
            by_key[letter:upper()] = ch
        else
            if not entry:match("^%d%d$") then
                lib.fail("book.md: chapter entry '%s' should be a two-digit number", entry)
            end
            ch.num = tonumber(entry)
            ch.number, ch.label = tostring(ch.num), "chapter " .. entry
        end
        by_key[entry] = ch
        if ch.folder then
            ch.dir = dir .. "/" .. ch.folder
            ch.file = ch.dir .. "/" .. ch.folder .. ".md"
            ch.present = lib.exists(ch.file)
        end
        chapters[#chapters + 1] = ch
    end
    for _, e in ipairs(lib.meta_list(meta, "chapters")) do
        add(e, false)
    end
    for _, e in ipairs(lib.meta_list(meta, "appendices")) do
        add(e, true)
    end
    local missing = {}
    for _, ch in ipairs(chapters) do
        if not ch.present then
            missing[#missing + 1] = ch.entry
        end
    end
    if #missing > 0 then
        lib.warn("not written yet, so left out (no %s/NN-slug/NN-slug.md): %s", dir, table.concat(missing, ", "))
    end
end

-- ---------------------------------------------------------------------------------
-- Ids: unique across the book, numbered headings

local used_ids = {}

local function id_elements()
    local ids = {}
    local function note(el)
        if el.identifier and el.identifier ~= "" then
            ids[#ids + 1] = el.identifier
        end
    end
    return ids, {Header = note, Div = note, Span = note, CodeBlock = note, Image = note}
end

-- Gives the chapter's elements ids nobody else has; returns old -> new and the set
-- of the chapter's (new) ids.
local function claim_ids(blocks, suffix)
    local ids, collector = id_elements()
    walk(blocks, collector)
    local map, own = {}, {}
    for _, id in ipairs(ids) do
        local new = id
        if used_ids[id] and not own[id] then
            new = id .. "-" .. suffix
            local n = 2
            while used_ids[new] do
                new = id .. "-" .. suffix .. "-" .. n
                n = n + 1
            end
            map[id] = new
        end
        used_ids[new] = true
        own[new] = true
    end
    if next(map) then
        local function rename(el)
            if el.identifier and map[el.identifier] then
                el.identifier = map[el.identifier]
                return el
            end
        end
        blocks = walk(blocks, {
            Header = rename, Div = rename, Span = rename, CodeBlock = rename, Image = rename,
            Link = function(l)
                local anchor = l.target:match("^#(.+)$")
                if anchor and map[anchor] then
                    l.target = "#" .. map[anchor]
                    return l
                end
            end,
        })
    end
    return blocks, map, own
end

local function number_headings(blocks, ch)
    local counters, seen_title = {}, false
    return walk(blocks, {Header = function(h)
        if h.level == 1 then
            if seen_title then
                lib.fail("%s: a chapter has one level-1 heading (its title); '%s' is a second",
                    ch.file, pandoc.utils.stringify(h.content))
            end
            seen_title = true
            ch.title_id = h.identifier
            ch.title = pandoc.utils.stringify(h.content)
            h.attributes["number"] = ch.number
            return h
        end
        if has_class(h, "unnumbered") then
            return nil
        end
        counters[h.level] = (counters[h.level] or 0) + 1
        for l = h.level + 1, 9 do
            counters[l] = nil
        end
        local parts = {ch.number}
        for l = 2, h.level do
            parts[#parts + 1] = tostring(counters[l] or 0)
        end
        h.attributes["number"] = table.concat(parts, ".")
        return h
    end})
end

-- ---------------------------------------------------------------------------------
-- The exercise manifest

local manifest_path = "exercises/manifest"
local manifest -- {order = {ids}, by_id = {id = {chapter=, section=, ...}}}

local function load_manifest()
    if manifest then
        return manifest
    end
    manifest = {order = {}, by_id = {}}
    local text = lib.read_file(manifest_path)
    if not text then
        return manifest
    end
    local current
    for _, line in ipairs(lib.split_lines(text)) do
        local id = line:match("^%[([%w%-]+)%]%s*$")
        local key, value = line:match("^(%w+)%s*=%s*(.-)%s*$")
        if id then
            current = {id = id}
            manifest.by_id[id] = current
            manifest.order[#manifest.order + 1] = id
        elseif key and current then
            current[key] = value
        end
    end
    return manifest
end

local function exercise_table()
    local m = load_manifest()
    local rows = {
        "| Exercise | Chapter | Difficulty | You edit | Proven by |",
        "|----------|---------|------------|----------|-----------|",
    }
    for _, id in ipairs(m.order) do
        local e = m.by_id[id]
        local nn = (e.chapter or ""):match("^(%d%d)") or "?"
        local edits = {}
        for path in (e.edit or ""):gmatch("%S+") do
            edits[#edits + 1] = "[](file:" .. path .. ")"
        end
        local stars = string.rep("★", tonumber(e.difficulty) or 0) .. string.rep("☆", 3 - (tonumber(e.difficulty) or 0))
        rows[#rows + 1] = string.format("| [](ex:%s) | [](ch:%s) | %s | %s | [](file:%s) |", id, nn, stars,
            table.concat(edits, " "), e.suite or "?")
    end
    if #m.order == 0 then
        return {pandoc.Para({pandoc.Str("(No exercises yet.)")})}
    end
    return pandoc.read(table.concat(rows, "\n") .. "\n", "markdown").blocks
end

-- ---------------------------------------------------------------------------------
-- Links to chapters, exercises and files

local function resolve_link(link, ctx)
    local target = link.target
    local empty = #link.content == 0
    local where = string.format("%s (%s)", ctx.file or "?", ctx.label or "the book")

    local key, anchor = target:match("^ch:([%w%-]+)#?(.*)$")
    if key then
        local ch = by_key[key] or by_key[key:upper()]
        if not ch then
            lib.fail("%s: link to '%s': book.md lists no chapter '%s'", where, target, key)
        end
        local content = empty and {pandoc.Str(ch.label)} or link.content
        if not ch.present then
            return pandoc.Span(content, pandoc.Attr("", {"later"}))
        end
        local id = ch.title_id
        if anchor ~= "" then
            id = ch.idmap[anchor] or anchor
            if not ch.ids[id] then
                lib.fail("%s: link to '%s': %s has no section with id '%s'", where, target, ch.label, anchor)
            end
        end
        return pandoc.Link(content, "#" .. id, link.title, pandoc.Attr("", {"ch"}))
    end

    local ex = target:match("^ex:([%w%-]+)$")
    if ex then
        local e = load_manifest().by_id[ex]
        if not e then
            lib.fail("%s: link to exercise '%s', which %s does not list", where, ex, manifest_path)
        end
        local content = empty and {pandoc.Code(ex)} or link.content
        local ch = by_key[(e.chapter or ""):match("^(%d%d)") or ""]
        if ch and ch.present and e.section and ch.ids[ch.idmap[e.section] or e.section] then
            return pandoc.Link(content, "#" .. (ch.idmap[e.section] or e.section), link.title, link.attr)
        end
        return pandoc.Span(content)
    end

    local file = target:match("^file:([^#]+)")
    if file then
        local text = lib.read_file(file)
        if not text then
            lib.fail("%s: link to %s, which does not exist", where, file)
        end
        local name = target:match("#(.+)$")
        if name and not text:find(name, 1, true) then
            lib.fail("%s: link to '%s': %s does not contain '%s'", where, target, file, name)
        end
        local content = empty and {pandoc.Code(name or file)} or link.content
        return pandoc.Span(content, pandoc.Attr("", {"file"}, name and {title = file} or {}))
    end
    return nil
end

-- ---------------------------------------------------------------------------------
-- Everything a chapter's blocks go through, once all chapters are known

local function content_filter(ctx)
    return {
        CodeBlock = function(b)
            if b.attributes["include"] then
                return listings.codeblock(b, ctx)
            elseif has_class(b, "plot") then
                return bench.plot(b, ctx)
            end
            return figures.codeblock(b, ctx)
        end,
        Image = function(img)
            return figures.image(img, ctx)
        end,
        Span = function(s)
            if has_class(s, "bench") then
                return bench.span(s, ctx)
            end
        end,
        Link = function(l)
            return resolve_link(l, ctx)
        end,
        -- Pipe tables get column widths from the length of their dashes, which is
        -- an accident of the source; let the reader's screen size the columns.
        Table = function(t)
            for i, spec in ipairs(t.colspecs) do
                t.colspecs[i] = {spec[1], pandoc.ColWidthDefault}
            end
            return t
        end,
    }
end

local function expand_divs(blocks)
    return walk(blocks, {Div = function(d)
        if has_class(d, "exercises") then
            return exercise_table()
        end
    end})
end

-- ---------------------------------------------------------------------------------
-- Whole-book checks

local function check_links(blocks)
    local ids, collector = id_elements()
    walk(blocks, collector)
    local known = {}
    for _, id in ipairs(ids) do
        known[id] = true
    end
    local broken = {}
    walk(blocks, {Link = function(l)
        local anchor = l.target:match("^#(.+)$")
        if anchor and not known[anchor] then
            broken[#broken + 1] = string.format("'%s' (text: %s)", l.target, pandoc.utils.stringify(l.content))
        end
    end})
    if #broken > 0 then
        lib.fail("links to ids that do not exist: %s", table.concat(broken, ", "))
    end
end

local function check_sections()
    for _, id in ipairs(load_manifest().order) do
        local e = manifest.by_id[id]
        local ch = by_key[(e.chapter or ""):match("^(%d%d)") or ""]
        if ch and ch.present and e.section and not ch.ids[ch.idmap[e.section] or e.section] then
            lib.fail("%s: exercise %s points at section '%s', which %s (%s) does not have",
                manifest_path, id, e.section, ch.label, ch.file)
        end
    end
end

-- ---------------------------------------------------------------------------------

local function build(doc)
    local meta = doc.meta
    lib.cache_dir = lib.meta_string(meta, "book-cache", nil)
    bench.path = lib.meta_string(meta, "bench-results", bench.path)
    manifest_path = lib.meta_string(meta, "exercise-manifest", manifest_path)
    find_chapters(meta)

    -- The front matter: unnumbered, seen as of the end of the course.
    local front = walk(doc.blocks, {Header = function(h)
        if not has_class(h, "unnumbered") then
            h.classes:insert("unnumbered")
        end
        return h
    end})
    front = expand_divs(front)
    front = (claim_ids(front, "front"))

    -- First pass: read every chapter, number it, make its ids unique.
    for _, ch in ipairs(chapters) do
        if ch.present then
            local text = lib.read_file(ch.file)
            local blocks = pandoc.read(text, "markdown").blocks
            blocks = number_headings(blocks, ch)
            if not ch.title_id then
                lib.fail("%s: a chapter starts with a level-1 heading (its title)", ch.file)
            end
            blocks = expand_divs(blocks)
            blocks, ch.idmap, ch.ids = claim_ids(blocks, ch.entry:match("^%d%d$") and ch.entry or ch.number:lower())
            ch.title_id = ch.idmap[ch.title_id] or ch.title_id
            ch.blocks = blocks
        end
    end

    -- Second pass: listings, figures, numbers, links, knowing every chapter.
    local body = walk(front, content_filter({num = listings.END, label = "front matter", file = "book.md", dir = "."}))
    for _, ch in ipairs(chapters) do
        if ch.present then
            local ctx = {num = ch.num, label = ch.label, file = ch.file, dir = ch.dir}
            for _, b in ipairs(walk(ch.blocks, content_filter(ctx))) do
                body[#body + 1] = b
            end
        end
    end

    check_links(body)
    check_sections()
    local roots = lib.meta_list(meta, "snippet-roots")
    if #roots > 0 then
        listings.check_unused(roots, lib.meta_list(meta, "snippet-exclude"), function(n)
            for _, ch in ipairs(chapters) do
                if ch.present and ch.num == n then
                    return true
                end
            end
            return false
        end, lib.meta_bool(meta, "book-draft"))
    end
    return pandoc.Pandoc(body, meta)
end

function Pandoc(doc)
    local ok, result = pcall(build, doc)
    if not ok then
        error(lib.failure or result, 0)
    end
    return result
end
