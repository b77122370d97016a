# Turns exercises/manifest into make variables and link rules (build/exercises.mk).
#
# For each [id] block it emits EX_<id>_CHAPTER, _EDIT, _SUITE, and the two test
# binaries: _SOLVED (the suite linked with solutions/) and _READER (linked with the
# reader's exercises/). An id NN-challenge-NAME marks a challenge, which must have
# difficulty 3. Usage: awk -v O=build -f manifest-to-make.awk exercises/manifest

function fail(msg) {
    printf "exercises/manifest:%d: %s\n", NR, msg > "/dev/stderr"
    failed = 1
    exit 1
}

function finish(   key, n, files, i, obj_solved, obj_reader, base, bin) {
    if (id == "")
        return
    split("chapter section edit suite difficulty hint", required, " ")
    for (i = 1; i <= 6; i++)
        if (!((required[i]) in field))
            fail("exercise '" id "' has no '" required[i] "'")
    if (id ~ /^[0-9][0-9]-challenge-/ && field["difficulty"] != "3")
        fail("exercise '" id "' is a challenge (NN-challenge-NAME): its difficulty is 3")
    if (field["suite"] !~ ("^tests/" field["chapter"] "/ex_[a-z0-9_]+\\.c$"))
        fail("exercise '" id "': suite must be tests/" field["chapter"] "/ex_NAME.c")
    base = field["suite"]; sub(/^tests\//, "", base); sub(/\.c$/, "", base)
    n = split(field["edit"], files, " ")
    obj_solved = ""; obj_reader = ""
    for (i = 1; i <= n; i++) {
        if (files[i] !~ ("^exercises/" field["chapter"] "/"))
            fail("exercise '" id "': edit file '" files[i] "' is not under exercises/" field["chapter"] "/")
        if (files[i] ~ /\.c$/) {
            obj_reader = obj_reader " $(O)/obj/" substr(files[i], 1, length(files[i]) - 2) ".o"
            obj_solved = obj_solved " $(O)/obj/solutions/" substr(files[i], 11, length(files[i]) - 12) ".o"
        }
    }
    printf "EXERCISES += %s\n", id
    printf "EX_%s_CHAPTER := %s\n", id, field["chapter"]
    printf "EX_%s_EDIT := %s\n", id, field["edit"]
    printf "EX_%s_SUITE := %s\n", id, field["suite"]
    printf "EX_%s_SOLVED := $(O)/tests/%s\n", id, base
    printf "EX_%s_READER := $(O)/exercises/%s\n", id, base
    printf "$(O)/tests/%s: $(O)/obj/tests/%s.o%s $(AXTEST) $(LIBAX)\n\t$(LINK_TEST)\n", base, base, obj_solved
    printf "$(O)/exercises/%s: $(O)/obj/tests/%s.o%s $(AXTEST) $(LIBAX)\n\t$(LINK_TEST)\n\n", base, base, obj_reader
    delete field
    id = ""
}

/^[ \t]*(#|$)/ { next }

/^\[[0-9][0-9]-[a-z0-9-]+\][ \t]*$/ {
    finish()
    id = $0; sub(/^\[/, "", id); sub(/\][ \t]*$/, "", id)
    if (id in seen)
        fail("exercise '" id "' is listed twice")
    seen[id] = 1
    if (substr(id, 1, 2) < last_chapter)
        fail("exercise '" id "' comes after chapter " last_chapter "'s: keep the list in chapter order")
    last_chapter = substr(id, 1, 2)
    next
}

/^\[/ { fail("bad exercise id " $0 " (want [NN-name], lower case)") }

{
    eq = index($0, "=")
    if (eq == 0 || id == "")
        fail("expected 'key = value' inside an [id] block")
    key = substr($0, 1, eq - 1); gsub(/^[ \t]+|[ \t]+$/, "", key)
    value = substr($0, eq + 1); gsub(/^[ \t]+|[ \t]+$/, "", value)
    if (key !~ /^(chapter|section|edit|suite|difficulty|hint)$/)
        fail("unknown key '" key "'")
    field[key] = value
}

END {
    if (!failed)
        finish()
}
