-- timeline.lua: draws a timeline (lanes of coloured spans over a time axis) as SVG,
-- from a small text format. Graphviz lays out graphs, not time, so the book's
-- "what happens when" pictures are drawn by this instead.
--
--     # comments and blank lines are ignored
--     axis  0 740 ms 100         the time axis: from, to, unit, tick spacing
--     kind  run #2563eb #ffffff  CPU: running your code
--     kind  park outline #1f2937 a task waiting (no thread held)
--     group Blocking: one thread, one request at a time
--     lane  thread
--     span  0 20 run A           from, to, kind, an optional label drawn inside
--     mark  720 done at 720 ms   a dashed line across the current group, labelled
--
-- `kind NAME FILL TEXT LEGEND`: FILL is a colour or `outline` (dashed border, no
-- fill); TEXT is the colour of labels drawn on it; LEGEND is its line in the legend
-- under the picture, which lists every kind in the order they were declared.
-- Labels that do not fit inside their span are left out.

local T = {}
T.VERSION = "1"

local WIDTH, LEFT, RIGHT = 760, 118, 24
local ROW, BAR, GROUP_GAP = 26, 18, 10
local CHAR = 6.7 -- average width of a 12px DejaVu Sans character, for fitting labels

local function esc(s)
    return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function num(s, ln)
    local v = tonumber(s)
    if not v then
        error(string.format("timeline line %d: '%s' is not a number", ln, tostring(s)), 0)
    end
    return v
end

local function parse(text)
    local tl = {kinds = {}, kind_order = {}, groups = {}}
    local ln = 0
    local group, lane
    for line in (text .. "\n"):gmatch("(.-)\n") do
        ln = ln + 1
        line = line:gsub("^%s+", ""):gsub("%s+$", "")
        local word, rest = line:match("^(%S+)%s*(.*)$")
        if line == "" or line:match("^#") then
            -- skip
        elseif word == "axis" then
            local a, b, unit, tick = rest:match("^(%S+)%s+(%S+)%s*(%S*)%s*(%S*)$")
            tl.from, tl.to = num(a, ln), num(b, ln)
            tl.unit = unit or ""
            tl.tick = tick ~= "" and num(tick, ln) or nil
        elseif word == "kind" then
            local name, fill, color, legend = rest:match("^(%S+)%s+(%S+)%s+(%S+)%s*(.*)$")
            if not name then
                error(string.format("timeline line %d: kind NAME FILL TEXTCOLOUR LEGEND", ln), 0)
            end
            tl.kinds[name] = {fill = fill, color = color, legend = legend}
            tl.kind_order[#tl.kind_order + 1] = name
        elseif word == "group" then
            group = {title = rest, lanes = {}, marks = {}}
            tl.groups[#tl.groups + 1] = group
            lane = nil
        elseif word == "lane" then
            if not group then
                group = {title = "", lanes = {}, marks = {}}
                tl.groups[#tl.groups + 1] = group
            end
            lane = {name = rest, spans = {}}
            group.lanes[#group.lanes + 1] = lane
        elseif word == "span" then
            local a, b, kind, label = rest:match("^(%S+)%s+(%S+)%s+(%S+)%s*(.*)$")
            if not lane then
                error(string.format("timeline line %d: span before any lane", ln), 0)
            end
            if not a or not tl.kinds[kind] then
                error(string.format("timeline line %d: span FROM TO KIND [LABEL], with a declared kind", ln), 0)
            end
            lane.spans[#lane.spans + 1] = {from = num(a, ln), to = num(b, ln), kind = kind, label = label}
        elseif word == "mark" then
            local at, label = rest:match("^(%S+)%s*(.*)$")
            if not group then
                error(string.format("timeline line %d: mark before any group", ln), 0)
            end
            group.marks[#group.marks + 1] = {at = num(at, ln), label = label}
        else
            error(string.format("timeline line %d: unknown statement '%s'", ln, word), 0)
        end
    end
    if not tl.from then
        error("timeline: no 'axis FROM TO UNIT [TICK]' line", 0)
    end
    return tl
end

function T.render(text)
    local tl = parse(text)
    local out = {}
    local function add(fmt, ...)
        out[#out + 1] = string.format(fmt, ...)
    end
    local x0, x1 = LEFT, WIDTH - RIGHT
    local function x(t)
        return x0 + (t - tl.from) / (tl.to - tl.from) * (x1 - x0)
    end

    local y = 8
    local body = {}
    local function put(fmt, ...)
        body[#body + 1] = string.format(fmt, ...)
    end
    for gi, g in ipairs(tl.groups) do
        if gi > 1 then
            y = y + GROUP_GAP
        end
        local top = y
        if g.title ~= "" then
            put('<text x="4" y="%.1f" font-weight="bold" font-size="13">%s</text>', y + 15, esc(g.title))
            y = y + 24
        end
        local lanes_top = y
        for _, lane in ipairs(g.lanes) do
            put('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d1d5db" stroke-width="1"/>',
                x0, y + ROW / 2, x1, y + ROW / 2)
            put('<text x="%d" y="%.1f" text-anchor="end" fill="#374151">%s</text>', x0 - 8, y + ROW / 2 + 4, esc(lane.name))
            for _, s in ipairs(lane.spans) do
                local k = tl.kinds[s.kind]
                local sx, ex = x(s.from), x(s.to)
                local by = y + (ROW - BAR) / 2
                if k.fill == "outline" then
                    put('<rect x="%.1f" y="%.1f" width="%.1f" height="%d" rx="3" fill="none" stroke="%s" '
                        .. 'stroke-width="1.3" stroke-dasharray="4 3"/>', sx + 0.6, by + 0.6, ex - sx - 1.2, BAR - 1, k.color)
                else
                    put('<rect x="%.1f" y="%.1f" width="%.1f" height="%d" rx="3" fill="%s"/>', sx, by, ex - sx, BAR, k.fill)
                end
                if s.label ~= "" and #s.label * CHAR + 6 <= ex - sx then
                    put('<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s" font-size="12">%s</text>',
                        (sx + ex) / 2, by + BAR / 2 + 4.2, k.color, esc(s.label))
                end
            end
            y = y + ROW
        end
        for _, m in ipairs(g.marks) do
            local mx = x(m.at)
            put('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#b91c1c" stroke-width="1.5" stroke-dasharray="5 3"/>',
                mx, lanes_top - 4, mx, y)
            local width = #m.label * CHAR
            local anchor, lx = "start", mx + 5
            if lx + width > WIDTH - 2 then
                anchor, lx = "end", mx - 5
            end
            put('<text x="%.1f" y="%.1f" text-anchor="%s" fill="#b91c1c" font-weight="bold">%s</text>',
                lx, top + 15, anchor, esc(m.label))
        end
    end

    -- The time axis.
    y = y + 4
    put('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#6b7280" stroke-width="1"/>', x0, y, x1, y)
    if tl.tick then
        local t = tl.from
        while t <= tl.to + 1e-9 do
            put('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#6b7280" stroke-width="1"/>', x(t), y, x(t), y + 4)
            local label = (t == math.floor(t)) and string.format("%d", t) or string.format("%g", t)
            put('<text x="%.1f" y="%.1f" text-anchor="middle" fill="#374151" font-size="11">%s</text>', x(t), y + 16, label)
            t = t + tl.tick
        end
    end
    if tl.unit ~= "" then
        put('<text x="%d" y="%.1f" text-anchor="end" fill="#374151" font-size="11">time (%s)</text>', x0 - 8, y + 16, esc(tl.unit))
    end
    y = y + 30

    -- The legend, wrapped to the width.
    local lx = x0
    for _, name in ipairs(tl.kind_order) do
        local k = tl.kinds[name]
        if k.legend ~= "" then
            local w = 22 + #k.legend * CHAR + 18
            if lx + w > WIDTH and lx > x0 then
                lx, y = x0, y + 20
            end
            if k.fill == "outline" then
                put('<rect x="%.1f" y="%.1f" width="16" height="12" rx="2" fill="none" stroke="%s" stroke-dasharray="3 2"/>',
                    lx, y - 10, k.color)
            else
                put('<rect x="%.1f" y="%.1f" width="16" height="12" rx="2" fill="%s"/>', lx, y - 10, k.fill)
            end
            put('<text x="%.1f" y="%.1f" fill="#374151" font-size="12">%s</text>', lx + 22, y, esc(k.legend))
            lx = lx + w
        end
    end
    local height = math.ceil(y + 10)

    add('<?xml version="1.0" encoding="UTF-8"?>')
    add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
        .. 'font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="12">', WIDTH, height, WIDTH, height)
    for _, line in ipairs(body) do
        add("%s", line)
    end
    add("</svg>")
    return table.concat(out, "\n") .. "\n"
end

return T
