#!/bin/sh
# Proves the book's filters keep the book honest: a fixture book (tools/book/test/)
# renders, with each chapter's listings cut to that chapter, and copies of it broken
# in one way each fail the build with a message that names what is wrong.
#
#   tools/book/test-book.sh        (make test-book)
#
# Each case renders a copy of the fixture in a temporary folder with the real filter,
# so nothing here depends on the state of the course's own chapters.
set -eu

for tool in pandoc dot gnuplot; do
    command -v $tool >/dev/null || { echo "test-book: $tool is missing; run make deps-book" >&2; exit 1; }
done

root=$(cd "$(dirname "$0")/../.." && pwd)
fixture=$root/tools/book/test
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*" >&2
}

# A fresh copy of the fixture for case $1; prints its folder.
copy() {
    rm -rf "${tmp:?}/$1"
    cp -R "$fixture" "$tmp/$1"
    echo "$tmp/$1"
}

# Renders the book in folder $1; pandoc's messages go to $1/err.txt.
render() {
    (cd "$1" && pandoc book.md --from markdown --lua-filter "$root/tools/book/book.lua" \
        --metadata book-cache="$tmp/cache" --to html5 --wrap=none -o out.html 2>err.txt)
}

# expect_failure NAME DIR TEXT...: rendering fails, and every TEXT is in the message.
expect_failure() {
    name=$1 dir=$2
    shift 2
    if render "$dir"; then
        bad "$name: the build succeeded; it should have failed"
        return
    fi
    for text in "$@"; do
        if ! grep -qF -- "$text" "$dir/err.txt"; then
            bad "$name: the message does not say \"$text\"; it was:"
            sed 's/^/    /' "$dir/err.txt" >&2
            return
        fi
    done
    ok
}

contains() { # contains NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then ok; else bad "$1: expected \"$3\" in $(basename "$2")"; fi
}
lacks() { # lacks NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then bad "$1: did not expect \"$3\" in $(basename "$2")"; else ok; fi
}

# --- The good fixture renders, and each chapter sees its own version of the code.
dir=$(copy good)
if render "$dir"; then
    ok
    # Split the page at chapter 02's heading: chapter 01 above, chapter 02 below.
    awk -v a="$dir/ch01.html" -v b="$dir/ch02.html" \
        '/id="second-chapter"/ { second = 1 } { print > (second ? b : a) }' "$dir/out.html"
    contains "chapter 01 sees its own loop body" "$dir/ch01.html" "the chapter 01 way"
    lacks "chapter 01 does not see chapter 02's lines" "$dir/ch01.html" "added_in_02"
    lacks "chapter 01 does not see chapter 02's loop body" "$dir/ch01.html" "the chapter 02 way"
    contains "chapter 02 sees the line it adds" "$dir/ch02.html" "added_in_02"
    contains "chapter 02 sees its replacement" "$dir/ch02.html" "the chapter 02 way"
    lacks "chapter 02 no longer sees what it replaced" "$dir/ch02.html" "the chapter 01 way"
    lacks "marker lines never show" "$dir/out.html" "//&gt;"
    lacks "snippet markers never show" "$dir/out.html" "// snippet"
    contains "a nested snippet is dedented" "$dir/ch02.html" '<span id="cb3-1"><a href="#cb3-1" aria-hidden="true" tabindex="-1"></a><span class="cf">for</span>'
    contains "a snippet inside a function names it" "$dir/ch02.html" "in demo_run()"
    contains "a snippet that defines a function names it" "$dir/ch01.html" "demo_run()"
    contains "a snippet that defines a struct names it" "$dir/ch01.html" "struct demo"
    contains "a bench span becomes the number and unit" "$dir/ch01.html" "$(printf '48.2\302\240µs')"
    contains "a figure says the machine and date" "$dir/ch01.html" "Measured on Fixture CPU, 4 cores, Linux 6.1, 2024-01-02."
    contains "a repeated heading id gets the chapter's number" "$dir/ch02.html" 'id="pitfalls-02"'
    contains "a link to the repeated id follows it" "$dir/ch02.html" 'href="#pitfalls-02"'
    contains "a link to an unwritten chapter is plain text" "$dir/out.html" '<span class="later">chapter 03</span>'
    contains "a snippet of an unwritten chapter is only noted" "$dir/err.txt" "'later-chapter' in src/demo.c (chapter 03)"
    contains "diagrams are embedded" "$dir/out.html" 'class="diagram"'
else
    bad "the good fixture failed to render:"
    sed 's/^/    /' "$dir/err.txt" >&2
fi

# --- Broken references fail, naming the file, the snippet and the chapter.
dir=$(copy missing-snippet)
sed -i 's/snippet="demo-run"/snippet="demo-rnu"/' "$dir/chapters/01-first/01-first.md"
expect_failure "a missing snippet" "$dir" \
    "snippet 'demo-rnu' not found in src/demo.c" "chapters/01-first/01-first.md (chapter 01)"

dir=$(copy renamed-marker)
sed -i 's,// snippet demo-loop,// snippet demo-loops,' "$dir/src/demo.c"
expect_failure "a snippet renamed in the source" "$dir" \
    "snippet 'demo-loop' not found in src/demo.c" "(chapter 02)"

dir=$(copy missing-file)
sed -i 's,include="src/demo.c" snippet="demo-struct",include="src/gone.c" snippet="demo-struct",' \
    "$dir/chapters/01-first/01-first.md"
expect_failure "a missing file" "$dir" "included file src/gone.c does not exist" "'demo-struct'" "(chapter 01)"

dir=$(copy unused-snippet)
printf '\n// snippet never-shown\nint demo_unused;\n// end snippet\n' >>"$dir/src/demo.c"
expect_failure "a snippet shown nowhere" "$dir" "shown nowhere" "'never-shown' in src/demo.c (chapter 01)"

dir=$(copy unclosed-marker)
sed -i '0,\,^ *//< 02$, s,,,' "$dir/src/demo.c"
expect_failure "an unclosed chapter marker" "$dir" "src/demo.c" "never closed"

dir=$(copy missing-result)
sed -i 's/\[echo.rtt_us.blocking\]{.bench}/[echo.rtt_us.nope]{.bench}/' "$dir/chapters/01-first/01-first.md"
expect_failure "a missing benchmark result" "$dir" "no benchmark result named 'echo.rtt_us.nope'" "(chapter 01)"

dir=$(copy missing-anchor)
sed -i 's/(ch:02#the-loop)/(ch:02#no-such-section)/' "$dir/book.md"
expect_failure "a link to a missing section" "$dir" "chapter 02 has no section with id 'no-such-section'"

# --- One chapter on its own (chapter.lua): the page for make book-chapters, the text
# for ./course read. Same listings and numbers as the book; links leave for the page
# of the chapter they point into.
render_chapter() { # render_chapter DIR CHAPTER FORMAT OUTFILE [pandoc options]
    rdir=$1 rch=$2 rfmt=$3 rout=$4
    shift 4
    (cd "$rdir" && pandoc book.md --from markdown --lua-filter "$root/tools/book/chapter.lua" \
        --metadata book-cache="$tmp/cache" --metadata book-chapter="$rch" "$@" \
        --to "$rfmt" --wrap=none -o "$rout" 2>err.txt)
}

dir=$(copy chapter-page)
printf '\nOn to [the loop](ch:02#the-loop).\n' >>"$dir/chapters/01-first/01-first.md"
if render_chapter "$dir" 01-first html5 ch01.html --standalone --template "$root/tools/book/template.html"; then
    ok
    contains "a chapter page holds its chapter" "$dir/ch01.html" 'id="first-chapter"'
    contains "a chapter page cuts its listings to its chapter" "$dir/ch01.html" "the chapter 01 way"
    contains "a chapter page fills in numbers" "$dir/ch01.html" "$(printf '48.2\302\240µs')"
    lacks "a chapter page holds no other chapter" "$dir/ch01.html" 'id="second-chapter"'
    lacks "a chapter page leaves the front matter out" "$dir/ch01.html" 'id="front-matter"'
    contains "a link into another chapter goes to its page" "$dir/ch01.html" 'href="02-second.html#the-loop"'
    contains "a chapter page links to the next chapter" "$dir/ch01.html" 'href="02-second.html"'
    contains "a chapter page links to the whole book" "$dir/ch01.html" 'href="../book.html"'
else
    bad "chapter 01 of the fixture failed to render as a page:"
    sed 's/^/    /' "$dir/err.txt" >&2
fi

if render_chapter "$dir" 01 plain ch01.txt; then
    ok
    contains "chapter text has its numbered title" "$dir/ch01.txt" "1 First chapter"
    contains "chapter text has its listings" "$dir/ch01.txt" "the chapter 01 way"
    contains "chapter text has its numbers" "$dir/ch01.txt" "$(printf '48.2\302\240µs')"
    contains "chapter text names its figures" "$dir/ch01.txt" "[Figure: A graph]"
    contains "chapter text keeps links as text" "$dir/ch01.txt" "On to the loop."
    lacks "chapter text shows no include stub" "$dir/ch01.txt" "include="
    lacks "chapter text shows no bench placeholder" "$dir/ch01.txt" "{.bench"
    lacks "chapter text holds no other chapter" "$dir/ch01.txt" "Second chapter"
else
    bad "chapter 01 of the fixture failed to render as text:"
    sed 's/^/    /' "$dir/err.txt" >&2
fi

dir=$(copy chapter-unmeasured)
rm "$dir/results.tsv"
if render_chapter "$dir" 01 plain ch01.txt --metadata bench-missing=mark; then
    ok
    contains "without results, a number is marked" "$dir/ch01.txt" "[not measured]"
    contains "without results, a chart is marked" "$dir/ch01.txt" "Chart: Wait cost. [not measured]"
else
    bad "bench-missing=mark did not render the chapter without results:"
    sed 's/^/    /' "$dir/err.txt" >&2
fi
if render_chapter "$dir" 01 plain ch01.txt; then
    bad "without results and without bench-missing=mark, the chapter should fail to render"
else
    contains "without results, the failure says to run make bench" "$dir/err.txt" "run \`make bench\`"
fi

dir=$(copy chapter-unknown)
if render_chapter "$dir" 07 plain ch07.txt; then
    bad "an unknown chapter rendered"
else
    contains "an unknown chapter is named" "$dir/err.txt" "the book has no chapter 7"
fi

echo "test-book: $passed checks passed, $failed failed"
[ "$failed" -eq 0 ]
