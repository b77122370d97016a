-- chapter.lua: one chapter of the book on its own (pandoc 2.17, Lua 5.3). It makes
-- the per-chapter HTML pages (make book-chapters: build/book/chapters/NN-slug.html)
-- and the text that `./course read NN` shows in a terminal (--to plain).
--
--     pandoc book.md --lua-filter tools/book/chapter.lua --metadata book-chapter=03-epoll ...
--
-- It runs the whole book through book.lua, so the chapter's listings, numbers, links
-- and the book's checks are exactly those of book.html, and then keeps one chapter.
-- It takes book.lua's metadata (book-cache, bench-results, book-draft) and:
--
--   book-chapter    the chapter: its folder (03-epoll, appendix-a-cheat-sheet), its
--                   number (03) or its letter (A). Required.
--   book-page       HTML: where the whole book is, seen from the chapter pages
--                   (default ../book.html). A link to another chapter goes to that
--                   chapter's page, NN-slug.html; a link to the front matter goes here.
--   bench-missing   "mark": a number or chart whose result is missing (no results.tsv
--                   yet, or one older than the benchmark) shows as
--                   "[not measured]" instead of failing the build. For
--                   reading in a terminal before `make bench` has run; the book itself
--                   never sets it.
--
-- In plain text, headings carry their numbers and an underline, a diagram or chart
-- becomes a line with its caption, and a link to the web keeps its address.

local here = (PANDOC_SCRIPT_FILE and PANDOC_SCRIPT_FILE:match("^(.*/)")) or "./"

-- Load book.lua as it is, keeping hold of the bench module it loads, so that
-- bench-missing can stand in for its numbers.
local bench
local load_file = dofile
dofile = function(path)
    local module = load_file(path)
    if path == here .. "bench.lua" then
        bench = module
    end
    return module
end
load_file(here .. "book.lua")
dofile = load_file
local book_pandoc = Pandoc
local lib = package.loaded["axle-book.lib"]

local function has_class(el, class)
    for _, c in ipairs(el.classes or {}) do
        if c == class then
            return true
        end
    end
    return false
end

-- ---------------------------------------------------------------------------------
-- Numbers that are not measured yet

local NOT_MEASURED = "[not measured]"

local function mark_missing_results()
    local span, plot = bench.span, bench.plot
    bench.span = function(s, ctx)
        local ok, result = pcall(span, s, ctx)
        if ok then
            return result
        end
        lib.failure = nil
        local name = lib.trim(pandoc.utils.stringify(s.content))
        return pandoc.Span(pandoc.Str(NOT_MEASURED), pandoc.Attr("", {"bench", "not-measured"},
            {title = name .. ": run make bench"}))
    end
    bench.plot = function(b, ctx)
        local ok, result = pcall(plot, b, ctx)
        if ok then
            return result
        end
        lib.failure = nil
        local text = "Chart: " .. (b.attributes["title"] or "benchmark results") .. ". " .. NOT_MEASURED
        return pandoc.Para({pandoc.Emph({pandoc.Str(text)})})
    end
end

-- ---------------------------------------------------------------------------------
-- Which chapter, and where the others are

-- "03-epoll", "03", "3" -> "3"; "appendix-a-cheat-sheet", "appendix-a", "A" -> "A".
local function wanted_number(key)
    local digits = key:match("^(%d+)")
    if digits then
        return tostring(tonumber(digits))
    end
    local letter = key:match("^appendix%-(%a)") or key:match("^(%a)$")
    if letter then
        return letter:upper()
    end
    lib.fail("book-chapter '%s' should be a chapter folder (03-epoll), number (03) or letter (A)", key)
end

-- The page of each chapter number: "3" -> "03-epoll.html", "A" -> "appendix-a-....html".
local function chapter_pages(meta)
    local dir = lib.meta_string(meta, "chapters-dir", "chapters")
    local pages = {}
    for folder in (lib.capture("ls -1 " .. lib.shell_quote(dir) .. " 2>/dev/null") or ""):gmatch("[^\n]+") do
        local number = folder:match("^(%d%d)%-") or folder:match("^appendix%-(%a)%-")
        if number and lib.exists(dir .. "/" .. folder .. "/" .. folder .. ".md") then
            pages[tonumber(number) and tostring(tonumber(number)) or number:upper()] = folder .. ".html"
        end
    end
    return pages
end

-- Splits the book at its level-1 headings: the front matter, then one part per
-- chapter, each {number =, title =, blocks =, ids = {set}}.
local function split(blocks)
    local parts = {{number = nil, blocks = {}, ids = {}}}
    for _, b in ipairs(blocks) do
        if b.t == "Header" and b.level == 1 and b.attributes["number"] then
            parts[#parts + 1] = {number = b.attributes["number"], header = b, blocks = {}, ids = {}}
        end
        local part = parts[#parts]
        part.blocks[#part.blocks + 1] = b
    end
    local function note(part)
        return function(el)
            if el.identifier and el.identifier ~= "" then
                part.ids[el.identifier] = true
            end
        end
    end
    for _, part in ipairs(parts) do
        local n = note(part)
        pandoc.walk_block(pandoc.Div(part.blocks), {Header = n, Div = n, Span = n, CodeBlock = n, Image = n})
    end
    return parts
end

-- ---------------------------------------------------------------------------------
-- HTML: links across pages, and a way to the neighbouring chapters

local function html_page(doc, parts, index, pages, book_page)
    local part = parts[index]
    local function page_of(id)
        for _, p in ipairs(parts) do
            if p.ids[id] then
                if p == part then
                    return ""
                end
                return p.number and pages[p.number] or book_page
            end
        end
        return nil
    end
    local blocks = pandoc.walk_block(pandoc.Div(part.blocks), {Link = function(l)
        local id = l.target:match("^#(.+)$")
        local page = id and page_of(id)
        if page and page ~= "" then
            l.target = page .. "#" .. id
            return l
        end
    end}).content

    local function link_to(p, arrow_before, arrow_after)
        local text = {}
        if arrow_before then
            text[#text + 1] = pandoc.Str(arrow_before)
            text[#text + 1] = pandoc.Space()
        end
        text[#text + 1] = pandoc.Str(p.number)
        text[#text + 1] = pandoc.Space()
        for _, inline in ipairs(p.header.content) do
            text[#text + 1] = inline
        end
        if arrow_after then
            text[#text + 1] = pandoc.Space()
            text[#text + 1] = pandoc.Str(arrow_after)
        end
        return pandoc.Link(text, pages[p.number] or book_page)
    end
    local nav = {}
    local function add(inline)
        if #nav > 0 then
            nav[#nav + 1] = pandoc.Str(" · ")
        end
        nav[#nav + 1] = inline
    end
    if parts[index - 1] and parts[index - 1].number then
        add(link_to(parts[index - 1], "←", nil))
    end
    add(pandoc.Link({pandoc.Str("The whole book")}, book_page))
    if parts[index + 1] then
        add(link_to(parts[index + 1], nil, "→"))
    end
    blocks[#blocks + 1] = pandoc.Div({pandoc.Plain(nav)}, pandoc.Attr("", {"chapter-nav"}))

    local meta = doc.meta
    local book_title = pandoc.utils.stringify(meta.title or "")
    meta.pagetitle = pandoc.MetaString(part.number .. " " .. pandoc.utils.stringify(part.header.content)
        .. " · " .. book_title)
    meta.title = pandoc.MetaInlines({pandoc.Link({pandoc.Str(book_title)}, book_page)})
    meta.subtitle = pandoc.MetaInlines(nav)
    meta.description = nil
    return pandoc.Pandoc(blocks, meta)
end

-- ---------------------------------------------------------------------------------
-- Plain text: numbered, underlined headings; figures as a line; web addresses kept

local function text_width(inlines)
    return utf8.len(pandoc.utils.stringify(inlines)) or #pandoc.utils.stringify(inlines)
end

local function plain_page(doc, part)
    local blocks = pandoc.walk_block(pandoc.Div(part.blocks), {
        Header = function(h)
            local text = {}
            if h.attributes["number"] then
                text[1] = pandoc.Str(h.attributes["number"])
                text[2] = pandoc.Space()
            end
            for _, inline in ipairs(h.content) do
                text[#text + 1] = inline
            end
            if h.level > 2 then
                return pandoc.Para(text)
            end
            local rule = string.rep(h.level == 1 and "=" or "-", math.min(text_width(text), 72))
            text[#text + 1] = pandoc.LineBreak()
            text[#text + 1] = pandoc.Str(rule)
            return pandoc.Para(text)
        end,
        Para = function(p)
            local img = #p.content == 1 and p.content[1].t == "Image" and p.content[1]
            if img then
                local label = has_class(img, "plot") and "Chart" or "Figure"
                local text = {pandoc.Str("[" .. label .. ":"), pandoc.Space()}
                for _, inline in ipairs(img.caption) do
                    text[#text + 1] = inline
                end
                text[#text + 1] = pandoc.Str("]")
                return pandoc.Para(text)
            end
        end,
        Link = function(l)
            if l.target:match("^%a[%w+.-]*:") and pandoc.utils.stringify(l.content) ~= l.target then
                local text = l.content
                text[#text + 1] = pandoc.Str(" <" .. l.target .. ">")
                return pandoc.Span(text)
            end
        end,
    }).content
    return pandoc.Pandoc(blocks, doc.meta)
end

-- ---------------------------------------------------------------------------------

function Pandoc(doc)
    local ok, result = pcall(function()
        local key = lib.meta_string(doc.meta, "book-chapter", "")
        if key == "" then
            lib.fail("chapter.lua needs --metadata book-chapter=NN-slug (or NN)")
        end
        local number = wanted_number(key)
        if lib.meta_string(doc.meta, "bench-missing", "") == "mark" then
            mark_missing_results()
        end
        local book = book_pandoc(doc)
        local parts = split(book.blocks)
        for i, part in ipairs(parts) do
            if part.number == number then
                if FORMAT == "plain" then
                    return plain_page(book, part)
                end
                return html_page(book, parts, i, chapter_pages(doc.meta),
                    lib.meta_string(doc.meta, "book-page", "../book.html"))
            end
        end
        lib.fail("book-chapter '%s': the book has no chapter %s (is it listed in book.md, and written?)", key, number)
    end)
    if not ok then
        error(lib.failure or result, 0)
    end
    return result
end
