# The book: book.md and the chapter texts, rendered by pandoc with the filters in
# tools/book/, into $(O)/book/book.html (one self-contained page), book.epub,
# book.pdf (weasyprint, from the HTML page: book.css plus print.css) and one
# self-contained page per chapter, $(O)/book/chapters/NN-slug.html (chapter.lua).
# Included by the top Makefile. tools/book/README.md says how chapters use it.
#
#   make book          all of them; installs the book's packages first (tools/deps book)
#   make book-html     the HTML page only: the quick loop while writing
#   make book-chapters the per-chapter pages only
#   make test-book     proves the filters fail on broken references (tools/book/test-book.sh)
#   make book-check    runs epubcheck on the EPUB
#
# BOOK_DRAFT=1 turns "snippet shown nowhere" from an error into a note, for a chapter
# in progress; every other check still fails the build.

BOOK_OUT     := $(O)/book
BOOK_HTML    := $(BOOK_OUT)/book.html
BOOK_EPUB    := $(BOOK_OUT)/book.epub
BOOK_PDF     := $(BOOK_OUT)/book.pdf
BOOK_RESULTS := $(O)/bench/results.tsv

BOOK_TOOLS  := $(wildcard tools/book/*.lua) tools/book/book.css tools/book/print.css tools/book/template.html tools/book/rules.mk
# Everything a chapter can show: its own folder (text, diagrams, demos) and any
# source a listing includes. A change to any of them rebuilds the book.
BOOK_INPUTS := book.md exercises/manifest $(BOOK_TOOLS) \
    $(shell find chapters lib exercises solutions tests bench tools -type f \
        ! -path 'tools/book/test/*' ! -name '*.o' ! -name '*.d' 2>/dev/null)

# The metadata every rendering passes. `./course read` (tools/course/read.c) renders
# a chapter as text with the same filter and metadata: keep the two in step.
BOOK_META = --metadata book-cache=$(BOOK_OUT)/cache --metadata bench-results=$(BOOK_RESULTS) \
    $(if $(BOOK_DRAFT),--metadata book-draft=true)

BOOK_PANDOC = pandoc book.md --from markdown --lua-filter tools/book/book.lua $(BOOK_META) \
    --number-sections --toc --toc-depth=2 --resource-path=.

# One page per written chapter (chapters/X/X.md): chapter.lua renders the whole book
# and keeps chapter X, with links to the other chapters pointing at their pages.
BOOK_CHAPTERS      := $(foreach d,$(notdir $(wildcard chapters/*)),$(if $(wildcard chapters/$d/$d.md),$d))
BOOK_CHAPTER_PAGES := $(BOOK_CHAPTERS:%=$(BOOK_OUT)/chapters/%.html)

.PHONY: book book-run book-html book-chapters book-epub book-pdf book-check test-book

book: deps-book
	@$(MAKE) --no-print-directory book-run

book-run: $(BOOK_HTML) $(BOOK_EPUB) $(BOOK_PDF) $(BOOK_CHAPTER_PAGES)
	@echo "book: $(BOOK_HTML) $(BOOK_EPUB) $(BOOK_PDF)"
	@echo "book: one page per chapter in $(BOOK_OUT)/chapters/"

book-html: $(BOOK_HTML)
book-chapters: $(BOOK_CHAPTER_PAGES)
book-epub: $(BOOK_EPUB)
book-pdf: $(BOOK_PDF)

# The figures quote the benchmark results, so the first book build runs the
# benchmarks (which need the compiler: tools/deps test); after that, `make bench`
# refreshes them when you choose.
$(BOOK_RESULTS):
	@tools/deps test
	@$(MAKE) --no-print-directory bench

$(BOOK_HTML): $(BOOK_INPUTS) $(BOOK_RESULTS)
	@command -v pandoc >/dev/null || { echo "book: pandoc is missing; run make deps-book" >&2; exit 1; }
	@mkdir -p $(@D)
	$(BOOK_PANDOC) --to html5 --self-contained \
	    --template tools/book/template.html --css tools/book/book.css --css tools/book/print.css -o $@

$(BOOK_OUT)/chapters/%.html: $(BOOK_INPUTS) $(BOOK_RESULTS)
	@command -v pandoc >/dev/null || { echo "book: pandoc is missing; run make deps-book" >&2; exit 1; }
	@mkdir -p $(@D)
	pandoc book.md --from markdown --lua-filter tools/book/chapter.lua $(BOOK_META) \
	    --metadata book-chapter=$* --number-sections --toc --toc-depth=3 --resource-path=. \
	    --to html5 --self-contained \
	    --template tools/book/template.html --css tools/book/book.css --css tools/book/print.css -o $@

$(BOOK_EPUB): $(BOOK_INPUTS) $(BOOK_RESULTS)
	@mkdir -p $(@D)
	$(BOOK_PANDOC) --to epub3 --css tools/book/book.css --epub-chapter-level=1 -o $@

# weasyprint reads the self-contained page: same text, same CSS, print rules.
$(BOOK_PDF): $(BOOK_HTML)
	weasyprint $< $@

# epubcheck's own launcher may fail to start on Debian; the jar works.
book-check: $(BOOK_EPUB)
	java -jar /usr/share/java/epubcheck.jar $<

test-book:
	@tools/book/test-book.sh
