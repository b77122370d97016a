-- figures.lua: diagrams drawn from text at build time.
--
-- An image whose source is a text file is rendered to SVG and embedded:
--
--     ![The runtime and how a task moves through it](runtime.dot)    graphviz dot
--     ![One thread, three requests](timeline.timeline)              timeline.lua
--     ![A custom chart](chart.gp)                                   a gnuplot script
--
-- Paths are relative to the chapter's folder. A diagram can also sit in the text as
-- a code block: ```{.dot caption="..."}``` or ```{.timeline caption="..."}```.
-- The SVG goes into pandoc's media bag (a data: URI in the HTML, a file in the
-- EPUB), cleaned so that epubcheck and weasyprint accept it (lib.clean_svg).

local here = (PANDOC_SCRIPT_FILE and PANDOC_SCRIPT_FILE:match("^(.*/)")) or "./"
local lib = package.loaded["axle-book.lib"] or dofile(here .. "lib.lua")
local timeline = dofile(here .. "timeline.lua")

local F = {}

-- Fonts every diagram asks for; DejaVu is what `tools/deps book` installs.
local FONT = "DejaVu Sans,Helvetica,Arial,sans-serif"

local function render_dot(source, what)
    return lib.cached({"dot", "2", FONT, source}, function()
        return lib.clean_svg(lib.run("dot", {"-Tsvg", "-Gfontname=" .. FONT, "-Nfontname=" .. FONT,
            "-Efontname=" .. FONT, "-Gbgcolor=transparent"}, source, what))
    end)
end

-- A gnuplot script: the terminal and output are set here, so the script only draws.
function F.gnuplot_svg(script, what, dir)
    local preamble = table.concat({
        'set terminal svg size 720,420 fixed noenhanced font "DejaVu Sans,12" background rgb "#ffffff"',
        "set output",
        "",
    }, "\n")
    return lib.cached({"gnuplot", preamble, dir or "", script}, function()
        local args = {"-c", (dir and ("cd " .. lib.shell_quote(dir) .. " && ") or "") .. "gnuplot"}
        return lib.clean_svg(lib.run("sh", args, preamble .. script, what))
    end)
end

local function render_timeline(source, what)
    return lib.cached({"timeline", timeline.VERSION, source}, function()
        local ok, svg = pcall(timeline.render, source)
        if not ok then
            lib.fail("%s: %s", what, tostring(svg))
        end
        return svg
    end)
end

local RENDERERS = {
    dot = render_dot, gv = render_dot,
    timeline = render_timeline,
}

local function resolve(src, ctx)
    if ctx.dir then
        local p = ctx.dir .. "/" .. src
        if lib.exists(p) then
            return p
        end
    end
    if lib.exists(src) then
        return src
    end
    return nil
end

local function add_class(attr, class)
    local classes = {}
    for _, c in ipairs(attr.classes) do
        classes[#classes + 1] = c
    end
    classes[#classes + 1] = class
    return pandoc.Attr(attr.identifier, classes, attr.attributes)
end

-- Images: a .dot/.gv/.timeline/.gp source becomes its SVG; other relative images
-- are pointed at the chapter's folder.
function F.image(img, ctx)
    local src = img.src
    if src:match("^%a[%w+.-]*:") or src:match("^fig/") then
        return nil
    end
    local ext = src:match("%.([%w]+)$")
    local path = resolve(src, ctx)
    local where = string.format("%s (%s)", ctx.file or "?", ctx.label or "the book")
    if not path then
        lib.fail("%s: image source %s not found (looked in %s)", where, src, ctx.dir or ".")
    end
    local svg, key
    if RENDERERS[ext] then
        svg, key = RENDERERS[ext](lib.read_file(path), path)
    elseif ext == "gp" then
        svg, key = F.gnuplot_svg(lib.read_file(path), path, path:match("^(.*)/") or ".")
    else
        img.src = path
        return img
    end
    img.src = lib.add_svg(src:match("([^/]*)%.[%w]+$"), svg, key)
    img.attr = add_class(img.attr, "diagram")
    return img
end

-- Code blocks of class dot or timeline: the text is the diagram, `caption` its caption.
function F.codeblock(block, ctx)
    local kind
    for _, c in ipairs(block.classes) do
        if RENDERERS[c] and not block.attributes["include"] then
            kind = c
        end
    end
    if not kind then
        return nil
    end
    local where = string.format("a %s block in %s (%s)", kind, ctx.file or "?", ctx.label or "the book")
    local svg, key = RENDERERS[kind](block.text, where)
    local caption = {}
    if block.attributes["caption"] then
        caption = pandoc.read(block.attributes["caption"], "markdown").blocks[1].content
    end
    local stem = block.identifier ~= "" and block.identifier or kind
    local img = pandoc.Image(caption, lib.add_svg(stem, svg, key), "fig:", pandoc.Attr(block.identifier, {"diagram"}))
    return pandoc.Para({img})
end

return F
