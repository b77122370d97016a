-- bench.lua: the book's numbers and charts, taken from the benchmark results.
--
-- `make bench` writes build/bench/results.tsv: two header lines
--
--     # machine: <cpu>, <n> cores, <kernel>
--     # date: YYYY-MM-DD
--
-- then one `name<TAB>value<TAB>unit` line per measurement. A chapter uses them as
--
--     [echo.rtt_us.blocking]{.bench}         the value and unit: "48.2 µs"
--     [echo.rtt_us.blocking]{.bench .bare}   the value alone: "48.2"
--     [machine]{.bench}, [date]{.bench}      what the results were measured on, and when
--     [peer.tasks.spawn_ns.tokio]{.bench .peer}   a peer's number (`make bench-peers`):
--                                            "—" when it was not measured in this build
--     [timers.task.steady_overshoot_p99_us]{.bench .optional}   a number a benchmark
--                                            reports only when it has one: "—" otherwise
--
--     ```{.plot title="Cost of one wait" x="idle descriptors" y="ns per wait"
--               series="select=reactor.wait_ns.select.*, epoll=reactor.wait_ns.epoll.*"}
--     ```
--
-- A plot's series are result-name patterns with one `*`; what the `*` matches is the
-- x value. Numbers give a line chart (`logx`, `logy` for log scales); words give a
-- bar chart, one bar per name, in results order. Every chart's caption and picture
-- say the machine and date. A name or pattern that matches nothing fails the build.

local here = (PANDOC_SCRIPT_FILE and PANDOC_SCRIPT_FILE:match("^(.*/)")) or "./"
local lib = package.loaded["axle-book.lib"] or dofile(here .. "lib.lua")
local figures = dofile(here .. "figures.lua")

local B = {}

B.path = "build/bench/results.tsv"
local results -- loaded on first use: {values = {name = {value, unit}}, order = {names}, machine, date}

local function load(where)
    if results then
        return results
    end
    local text = lib.read_file(B.path)
    if not text then
        lib.fail("%s uses benchmark results, but %s does not exist: run `make bench`", where, B.path)
    end
    results = {values = {}, order = {}}
    for ln, line in ipairs(lib.split_lines(text)) do
        local machine = line:match("^#%s*machine:%s*(.-)%s*$")
        local date = line:match("^#%s*date:%s*(.-)%s*$")
        if machine then
            results.machine = machine
        elseif date then
            results.date = date
        elseif line:match("^#") or line:match("^%s*$") then
            -- a comment
        else
            local name, value, unit = line:match("^([^\t]+)\t([^\t]+)\t([^\t]*)$")
            if not name or not tonumber(value) then
                lib.fail("%s:%d: expected name<TAB>value<TAB>unit, got '%s'", B.path, ln, line)
            end
            if not results.values[name] then
                results.order[#results.order + 1] = name
            end
            results.values[name] = {value = tonumber(value), unit = unit}
        end
    end
    if not results.machine or not results.date then
        lib.fail("%s lacks its '# machine:' or '# date:' header line", B.path)
    end
    return results
end

local UNITS = {us = "µs", ["us/op"] = "µs/op", pct = "%", percent = "%"}

-- 1234567 -> "1,234,567"; 48.234 -> "48.2"; 0.01234 -> "0.0123".
function B.format_number(v)
    local a = math.abs(v)
    local s
    if a >= 100 or a == math.floor(a) then
        s = string.format("%.0f", v)
    elseif a >= 10 then
        s = string.format("%.1f", v)
    elseif a >= 1 then
        s = string.format("%.2f", v)
    else
        s = string.format("%.3g", v)
    end
    local int, rest = s:match("^(-?%d+)(.*)$")
    if int and #int > 4 then
        int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^(-?),", "%1")
        s = int .. rest
    end
    return s
end

function B.format(v, unit)
    unit = UNITS[unit] or unit or ""
    if unit == "" then
        return B.format_number(v)
    elseif unit == "%" then
        return B.format_number(v) .. "%"
    end
    return B.format_number(v) .. "\u{a0}" .. unit
end

local function measured(r)
    return string.format("measured on %s, %s", r.machine, r.date)
end

-- A span of class bench: its text names a result.
function B.span(span, ctx)
    local name = lib.trim(pandoc.utils.stringify(span.content))
    local where = string.format("%s (%s)", ctx.file or "?", ctx.label or "the book")
    local r = load(where)
    local text
    if name == "machine" then
        text = r.machine
    elseif name == "date" then
        text = r.date
    else
        local m = r.values[name]
        local peer, optional = false, false
        for _, c in ipairs(span.classes) do
            peer = peer or c == "peer"
            optional = optional or c == "optional"
        end
        if not m and peer then -- the peers need cargo and tokio, which a reader may not have
            return pandoc.Span(pandoc.Str("—"), pandoc.Attr("", {"bench"},
                {title = name .. ": not measured in this build (make bench-peers measures it)"}))
        end
        if not m and optional then -- the benchmark had nothing to report under that name
            return pandoc.Span(pandoc.Str("—"), pandoc.Attr("", {"bench"},
                {title = name .. ": not reported by this run (see the benchmark's source)"}))
        end
        if not m then
            lib.fail("%s: no benchmark result named '%s' in %s (measured %s): run `make bench` to refresh "
                .. "the results, and check that a benchmark in bench/ prints that name", where, name, B.path, r.date)
        end
        local bare = false
        for _, c in ipairs(span.classes) do
            bare = bare or c == "bare"
        end
        text = bare and B.format_number(m.value) or B.format(m.value, m.unit)
    end
    return pandoc.Span(pandoc.Str(text), pandoc.Attr("", {"bench"}, {title = name .. ", " .. measured(r)}))
end

local function gp_string(s)
    return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
end

-- Splits "label=pattern, pattern" into {label, pattern} pairs.
local function parse_series(spec)
    local series = {}
    for item in spec:gmatch("[^,]+") do
        item = lib.trim(item)
        local label, pattern = item:match("^([^=]+)=(.+)$")
        if not label then
            pattern = item
        end
        series[#series + 1] = {label = label and lib.trim(label), pattern = lib.trim(pattern)}
    end
    return series
end

-- A default label: the pattern without its `*` part and without the part every
-- pattern shares ("reactor.wait_ns.select.*", "reactor.wait_ns.epoll.*" -> "select", "epoll").
local function default_labels(series)
    local parts = {}
    for i, s in ipairs(series) do
        local p = s.pattern:gsub("%.?%*%.?", "."):gsub("^%.", ""):gsub("%.$", "")
        parts[i] = {}
        for w in p:gmatch("[^.]+") do
            parts[i][#parts[i] + 1] = w
        end
    end
    local common = 0
    if #series > 1 then
        while true do
            local w = parts[1][common + 1]
            local same = w ~= nil
            for i = 2, #parts do
                same = same and parts[i][common + 1] == w
            end
            if not same then
                break
            end
            common = common + 1
        end
    end
    for i, s in ipairs(series) do
        if not s.label then
            s.label = #series > 1 and table.concat(parts[i], ".", common + 1) or ""
        end
    end
end

local PALETTE = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"}

function B.plot(block, ctx)
    local a = block.attributes
    local where = string.format("the plot '%s' in %s (%s)", a.title or "?", ctx.file or "?", ctx.label or "the book")
    if not a.series then
        lib.fail("%s has no series=\"name.pattern.*, ...\"", where)
    end
    local r = load(where)
    local series = parse_series(a.series)
    default_labels(series)

    -- only="a b": keep just these x values (a chapter showing results of its own time).
    local only
    if a.only then
        only = {}
        for word in a.only:gmatch("[^%s,]+") do
            only[word] = true
        end
    end

    local numeric = true
    for _, s in ipairs(series) do
        local _, stars = s.pattern:gsub("%*", "")
        if stars ~= 1 then
            lib.fail("%s: series pattern '%s' needs exactly one '*'", where, s.pattern)
        end
        local lua_pattern = "^" .. s.pattern:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", "(.+)") .. "$"
        s.points = {}
        for _, name in ipairs(r.order) do
            local x = name:match(lua_pattern)
            if x and (only == nil or only[x]) then
                s.points[#s.points + 1] = {x = x, y = r.values[name].value}
                s.unit = s.unit or r.values[name].unit
                numeric = numeric and tonumber(x) ~= nil
            end
        end
        if #s.points == 0 then
            lib.fail("%s: no benchmark result matches '%s' in %s (measured %s): run `make bench` to refresh "
                .. "the results, and check that a benchmark in bench/ prints such names", where, s.pattern, B.path, r.date)
        end
    end

    local g = {}
    local function add(fmt, ...)
        g[#g + 1] = string.format(fmt, ...)
    end
    add("set xlabel %s", gp_string(a.x or ""))
    add("set ylabel %s", gp_string(a.y or (series[1].unit or "")))
    add("set border 3 lc rgb '#4b5563'")
    add("set tics nomirror textcolor rgb '#374151'")
    add("set grid ytics lc rgb '#e5e7eb' lw 1 dt 1")
    add("set key top left noautotitle textcolor rgb '#111827'")
    add("set label 1 %s at screen 0.99, screen 0.02 right font ',9' textcolor rgb '#6b7280'", gp_string(measured(r)))
    add("set bmargin 4")
    if a.logy == "true" then
        add("set logscale y")
    end
    add("set yrange [%s:*]", a.logy == "true" and "*" or "0")

    if numeric then
        if a.logx == "true" then
            add("set logscale x")
        end
        local plots = {}
        for i, s in ipairs(series) do
            table.sort(s.points, function(p, q) return tonumber(p.x) < tonumber(q.x) end)
            add("$s%d << EOD", i)
            for _, p in ipairs(s.points) do
                add("%s %.17g", p.x, p.y)
            end
            add("EOD")
            plots[#plots + 1] = string.format("$s%d using 1:2 with linespoints lw 2 pt 7 ps 0.7 lc rgb '%s' title %s",
                i, PALETTE[(i - 1) % #PALETTE + 1], gp_string(s.label))
        end
        add("plot %s", table.concat(plots, ", \\\n     "))
    else
        -- Bars: one cluster per x word, one bar per series.
        local xs, seen = {}, {}
        for _, s in ipairs(series) do
            s.by_x = {}
            for _, p in ipairs(s.points) do
                if not seen[p.x] then
                    seen[p.x] = true
                    xs[#xs + 1] = p.x
                end
                s.by_x[p.x] = p.y
            end
        end
        add("set style data histograms")
        add("set style histogram clustered gap 1")
        add("set style fill solid 0.9 border -1")
        add("set boxwidth 0.9")
        add("set xtics scale 0")
        add("$bars << EOD")
        for _, x in ipairs(xs) do
            local row = {gp_string(x)}
            for _, s in ipairs(series) do
                row[#row + 1] = s.by_x[x] and string.format("%.17g", s.by_x[x]) or "NaN"
            end
            add("%s", table.concat(row, " "))
        end
        add("EOD")
        local plots = {}
        for i, s in ipairs(series) do
            plots[#plots + 1] = string.format("$bars using %d%s lc rgb '%s' title %s", i + 1,
                i == 1 and ":xtic(1)" or "", PALETTE[(i - 1) % #PALETTE + 1], gp_string(s.label))
        end
        add("plot %s", table.concat(plots, ", \\\n     "))
    end
    local script = table.concat(g, "\n") .. "\n"
    local svg, key = figures.gnuplot_svg(script, where)
    -- gnuplot draws each point as a <use> of a shared symbol coloured by
    -- currentColor, which weasyprint cannot paint: draw the filled circles (pt 7) directly.
    svg = svg:gsub("<use xlink:href='#gpPt6' transform='translate%(([%d.%-]+),([%d.%-]+)%) scale%(([%d.]+)%)' color='([^']+)'/>",
        "<circle cx='%1' cy='%2' r='%3' fill='%4' stroke='none'/>")

    local caption = {}
    if a.title then
        caption = pandoc.read(a.title, "markdown").blocks[1].content
        caption[#caption + 1] = pandoc.Str(".")
        caption[#caption + 1] = pandoc.Space()
    end
    local note = measured(r)
    caption[#caption + 1] = pandoc.Span(pandoc.Str(note:sub(1, 1):upper() .. note:sub(2) .. "."), pandoc.Attr("", {"measured"}))
    local stem = block.identifier ~= "" and block.identifier or "plot"
    local img = pandoc.Image(caption, lib.add_svg(stem, svg, key), "fig:", pandoc.Attr(block.identifier, {"plot"}))
    return pandoc.Para({img})
end

return B
