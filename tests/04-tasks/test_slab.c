/* The task slab (lib/slab.c), on its own: blocks freed in any order come back packed,
 * the lowest address of one chunk first; every block handed out is zeroed and visited. */
#include "axtest.h"
#include "slab.h"

#include <stdlib.h>
#include <string.h>

enum { BLOCKS = 3000, SIZE = 176 }; /* a sleeping task's size: about eight chunks */

static uintptr_t chunk_of(const void *block)
{
    return (uintptr_t)block & ~(uintptr_t)(AX__CHUNK - 1);
}

/* Fisher-Yates with a fixed linear congruential generator: the same order every run. */
static void shuffle(void **blocks, size_t n)
{
    uint64_t state = 42;
    for (size_t i = n - 1; i > 0; i--) {
        state = state * UINT64_C(6364136223846793005) + 1442695040888963407;
        size_t j = (size_t)(state >> 33) % (i + 1);
        void *t = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = t;
    }
}

START_TEST(blocks_freed_at_random_come_back_one_chunk_at_a_time_lowest_first)
{
    static void *blocks[BLOCKS];
    struct ax__slab slab;
    ax__slab_init(&slab, &slab);
    for (size_t i = 0; i < BLOCKS; i++)
        ck_assert_ptr_nonnull(blocks[i] = ax__slab_alloc(&slab, SIZE));
    shuffle(blocks, BLOCKS);
    for (size_t i = 0; i < BLOCKS; i++)
        ax__slab_free(blocks[i]);

    /* Handed out again: a chunk is left only when it is full, and never returned to,
     * and within one chunk each block lies above the one before. */
    size_t switches = 0, backwards = 0;
    uintptr_t chunks[64];
    for (size_t i = 0; i < BLOCKS; i++) {
        ck_assert_ptr_nonnull(blocks[i] = ax__slab_alloc(&slab, SIZE));
        if (i == 0 || chunk_of(blocks[i]) != chunk_of(blocks[i - 1])) {
            for (size_t k = 0; k < switches; k++)
                ck_assert_msg(chunks[k] != chunk_of(blocks[i]), "block %zu: back to a chunk left",
                              i);
            ck_assert_uint_lt(switches, 64);
            chunks[switches++] = chunk_of(blocks[i]);
        } else if ((uintptr_t)blocks[i] < (uintptr_t)blocks[i - 1]) {
            backwards++;
        }
    }
    ck_assert_uint_eq(backwards, 0);
    ck_assert_uint_le(switches, BLOCKS * SIZE / (AX__CHUNK / 2)); /* chunks are mostly full */
    ax__slab_destroy(&slab);
}
END_TEST

START_TEST(a_block_is_handed_out_zeroed_even_where_a_freed_one_was_written)
{
    struct ax__slab slab;
    ax__slab_init(&slab, &slab);
    unsigned char *a = ax__slab_alloc(&slab, SIZE);
    ck_assert_ptr_nonnull(a);
    memset(a, 0xA5, SIZE);
    ax__slab_free(a);
    unsigned char *b = ax__slab_alloc(&slab, SIZE);
    ck_assert_ptr_eq(b, a); /* the lowest free block: the same one */
    static const unsigned char zeros[SIZE];
    ck_assert_msg(memcmp(b, zeros, SIZE) == 0, "a reused block was not zeroed");
    ck_assert_ptr_eq(ax__slab_owner(b), &slab);
    ax__slab_free(b);
    ax__slab_destroy(&slab);
}
END_TEST

/* Each visited block is marked; the count says none was visited twice. */
static void mark(void *block, void *arg)
{
    unsigned char *b = block;
    ck_assert_uint_eq(b[0], 1); /* live, and not visited yet */
    b[0] = 2;
    ++*(size_t *)arg;
}

START_TEST(visit_sees_every_block_handed_out_and_no_freed_one)
{
    static void *blocks[BLOCKS];
    struct ax__slab slab;
    ax__slab_init(&slab, &slab);
    size_t live = 0;
    for (size_t i = 0; i < BLOCKS; i++) {
        blocks[i] = ax__slab_alloc(&slab, i % 2 ? SIZE : 48); /* two classes */
        ck_assert_ptr_nonnull(blocks[i]);
        *(unsigned char *)blocks[i] = 1;
    }
    for (size_t i = 0; i < BLOCKS; i += 3) { /* every third freed ... */
        ax__slab_free(blocks[i]);
        blocks[i] = NULL;
    }
    for (size_t i = 0; i < BLOCKS; i += 6) { /* ... and half of those places taken again */
        blocks[i] = ax__slab_alloc(&slab, SIZE);
        ck_assert_ptr_nonnull(blocks[i]);
        *(unsigned char *)blocks[i] = 1;
    }
    for (size_t i = 0; i < BLOCKS; i++)
        live += blocks[i] != NULL;
    size_t visited = 0;
    ax__slab_visit(&slab, mark, &visited);
    ck_assert_uint_eq(visited, live);
    for (size_t i = 0; i < BLOCKS; i++)
        if (blocks[i] != NULL)
            ax__slab_free(blocks[i]);
    visited = 0;
    ax__slab_visit(&slab, mark, &visited);
    ck_assert_uint_eq(visited, 0);
    ax__slab_destroy(&slab);
}
END_TEST

static Suite *slab_suite(void)
{
    Suite *s = suite_create("04-slab");
    TCase *tc = axt_tcase("slab");
    tcase_add_test(tc, blocks_freed_at_random_come_back_one_chunk_at_a_time_lowest_first);
    tcase_add_test(tc, a_block_is_handed_out_zeroed_even_where_a_freed_one_was_written);
    tcase_add_test(tc, visit_sees_every_block_handed_out_and_no_freed_one);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(slab_suite)
