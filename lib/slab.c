//@ 04
/* The task slab; see slab.h. */
#include "slab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The checkers still see tasks as heap blocks, although their memory stays in the
 * slab. Under AddressSanitizer, free blocks are poisoned, so a task used after it was
 * freed is reported. Under valgrind, blocks are announced as allocated and freed, so a
 * use after free is reported, and so is a task never released (a handle never joined
 * or detached, a waker never dropped) as a leak. Outside the checkers these cost
 * nothing, or a few instructions. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif
#if defined(__has_include) && __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HEAP_ALLOC(p, n)  VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 1)
#define HEAP_FREE(p)      VALGRIND_FREELIKE_BLOCK(p, 0)
#define HEAP_UNUSED(p, n) VALGRIND_MAKE_MEM_NOACCESS(p, n)
#define UNDER_VALGRIND    RUNNING_ON_VALGRIND
#else
#define HEAP_ALLOC(p, n)  ((void)(p), (void)(n))
#define HEAP_FREE(p)      ((void)(p))
#define HEAP_UNUSED(p, n) ((void)(p), (void)(n))
#define UNDER_VALGRIND    0
#endif

enum { SMALL_CLASSES = 64, SMALL_MAX = 1024, LARGE = -1 };

// snippet slab-chunk
struct ax__chunk {
    void *owner; /* the slab's owner, here so that finding it is one load */
    struct ax__slab *slab;
    struct ax__chunk *next, *prev; /* every chunk of the slab */
    struct ax__chunk *room_next; /* the next chunk of its class with a free block */
    size_t bytes; /* the chunk's own size: AX__CHUNK, or more for one large block */
    size_t mapped; /* a mapping starts here (a region, or a large block's chunk): its size */
    uint32_t block_size;
    uint32_t blocks; /* how many fit */
    uint32_t free; /* blocks not handed out */
    uint32_t lowest; /* no word of used[] below this one has a free block */
    int size_class; /* LARGE: one block, and the chunk goes when it is freed */
    uint64_t used[]; /* one bit per block: handed out and not freed */
};
// end snippet

/* A chunk's blocks start after its header and bitmap, 16-byte aligned. */
static size_t blocks_offset(uint32_t blocks)
{
    size_t header = sizeof(struct ax__chunk) + (blocks + 63) / 64 * sizeof(uint64_t);
    return (header + 15) & ~(size_t)15;
}

static char *block_at(struct ax__chunk *chunk, uint32_t i)
{
    return (char *)chunk + blocks_offset(chunk->blocks) + (size_t)i * chunk->block_size;
}

static struct ax__chunk *chunk_of(const void *block)
{
    return (struct ax__chunk *)((uintptr_t)block & ~(uintptr_t)(AX__CHUNK - 1));
}

static uint32_t index_of(struct ax__chunk *chunk, const void *block)
{
    size_t offset = (size_t)((const char *)block - block_at(chunk, 0));
    return (uint32_t)(offset / chunk->block_size);
}

/* Sizes up to 1 KiB in steps of 16 bytes; then four classes per doubling up to 16 KiB. */
static size_t class_size(int size_class)
{
    if (size_class < SMALL_CLASSES)
        return (size_t)(size_class + 1) * 16;
    int k = size_class - SMALL_CLASSES;
    size_t base = (size_t)SMALL_MAX << (k / 4);
    return base + base / 4 * (size_t)(k % 4 + 1);
}

static int class_of(size_t size)
{
    if (size <= SMALL_MAX)
        return size == 0 ? 0 : (int)((size + 15) / 16) - 1;
    for (int c = SMALL_CLASSES; c < AX__SLAB_CLASSES; c++)
        if (size <= class_size(c))
            return c;
    return LARGE;
}

void ax__slab_init(struct ax__slab *slab, void *owner)
{
    memset(slab, 0, sizeof *slab);
    slab->owner = owner;
}

/* `bytes` (a multiple of `align`, a power of two at least AX__CHUNK) of fresh memory
 * aligned to `align`, straight from the kernel: map more than needed and unmap what
 * lies outside the aligned part. (aligned_alloc would do, but leaves malloc's
 * bookkeeping on a page of its own on each side.) */
static void *map_aligned(size_t bytes, size_t align)
{
    size_t mapped = bytes + align;
    char *p = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *aligned = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
    if (aligned > p)
        munmap(p, (size_t)(aligned - p));
    if (aligned + bytes < p + mapped)
        munmap(aligned + bytes, (size_t)(p + mapped - (aligned + bytes)));
    return aligned;
}

// snippet slab-region
/* The next AX__CHUNK bytes for a class chunk, from the newest region, mapping a new
 * region twice as big when it is used up. */
static void *carve_chunk(struct ax__slab *slab, size_t *mapped)
{
    *mapped = 0;
    if (slab->region_next == slab->region_end) {
        size_t size = slab->region_size == 0 ? AX__REGION_MIN : slab->region_size * 2;
        if (size > AX__REGION_MAX)
            size = AX__REGION_MAX;
        size_t huge = (size_t)2 * 1024 * 1024;
        char *region = map_aligned(size, size >= huge ? huge : AX__CHUNK);
        if (region == NULL)
            return NULL;
#ifdef MADV_HUGEPAGE
        if (size >= huge)
            madvise(region, size, MADV_HUGEPAGE); /* a hint: without it, small pages */
#endif
        slab->region_next = region;
        slab->region_end = region + size;
        slab->region_size = size;
        *mapped = size; /* the region's first chunk stands for it */
    }
    void *chunk = slab->region_next;
    slab->region_next += AX__CHUNK;
    return chunk;
}
// end snippet

static struct ax__chunk *new_chunk(struct ax__slab *slab, int size_class, size_t block_size)
{
    uint32_t blocks = 1;
    size_t bytes = AX__CHUNK;
    if (size_class == LARGE) {
        size_t need = blocks_offset(1) + block_size;
        bytes = (need + AX__CHUNK - 1) / AX__CHUNK * AX__CHUNK;
    } else { /* as many as fit beside the header and its bitmap */
        blocks = (uint32_t)(AX__CHUNK / block_size);
        while (blocks_offset(blocks) + blocks * block_size > AX__CHUNK)
            blocks--;
    }
    size_t mapped = bytes;
    struct ax__chunk *chunk =
        size_class == LARGE ? map_aligned(bytes, AX__CHUNK) : carve_chunk(slab, &mapped);
    if (chunk == NULL) /* zeroed, as fresh pages are */
        return NULL;
    size_t head = blocks_offset(blocks);
    *chunk = (struct ax__chunk){.owner = slab->owner,
                                .slab = slab,
                                .next = slab->chunks,
                                .bytes = bytes,
                                .mapped = mapped,
                                .block_size = (uint32_t)block_size,
                                .blocks = blocks,
                                .free = blocks,
                                .size_class = size_class};
    if (slab->chunks != NULL)
        slab->chunks->prev = chunk;
    slab->chunks = chunk;
    POISON((char *)chunk + head, bytes - head);
    HEAP_UNUSED((char *)chunk + head, bytes - head);
    return chunk;
}

// snippet slab-alloc
/* The lowest free block of the chunk: used[] has a clear bit at or after `lowest`. */
static uint32_t take_lowest(struct ax__chunk *chunk)
{
    uint32_t w = chunk->lowest;
    while (chunk->used[w] == ~(uint64_t)0)
        w++;
    chunk->lowest = w;
    uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(~chunk->used[w]);
    chunk->used[w] |= (uint64_t)1 << (i % 64);
    chunk->free--;
    return i;
}

void *ax__slab_alloc(struct ax__slab *slab, size_t size)
{
    int size_class = class_of(size);
    size_t block_size = size_class == LARGE ? (size + 15) & ~(size_t)15 : class_size(size_class);
    struct ax__chunk *chunk = size_class == LARGE ? NULL : slab->room[size_class];
    if (chunk == NULL) {
        if ((chunk = new_chunk(slab, size_class, block_size)) == NULL)
            return NULL;
        if (size_class != LARGE)
            slab->room[size_class] = chunk;
    }
    char *block = block_at(chunk, take_lowest(chunk));
    if (chunk->free == 0 && size_class != LARGE) { /* full: off the class's list */
        slab->room[size_class] = chunk->room_next;
        chunk->room_next = NULL;
    }
    UNPOISON(block, block_size);
    HEAP_ALLOC(block, block_size);
    memset(block, 0, block_size);
    return block;
}
// end snippet

/* Takes a chunk off the slab's list and gives back the mapping that starts at it, if
 * one does: a region goes with its first chunk, which is the last of it on the list. */
static void unmap_chunk(struct ax__chunk *chunk)
{
    struct ax__slab *slab = chunk->slab;
    if (chunk->prev != NULL)
        chunk->prev->next = chunk->next;
    else
        slab->chunks = chunk->next;
    if (chunk->next != NULL)
        chunk->next->prev = chunk->prev;
    if (chunk->mapped == 0)
        return;
    size_t mapped = chunk->mapped;
    UNPOISON(chunk, mapped); /* the addresses may be mapped again for anything */
    munmap(chunk, mapped);
}

static bool chunk_in_use(const struct ax__chunk *chunk)
{
    return chunk->free < chunk->blocks;
}

void ax__slab_free(void *block)
{
    struct ax__chunk *chunk = chunk_of(block);
    struct ax__slab *slab = chunk->slab;
    uint32_t i = index_of(chunk, block);
    chunk->used[i / 64] &= ~((uint64_t)1 << (i % 64));
    if (i / 64 < chunk->lowest)
        chunk->lowest = i / 64;
    HEAP_FREE(block);
    POISON(block, chunk->block_size);
    if (chunk->free++ > 0 || chunk->size_class == LARGE) {
        if (chunk->size_class == LARGE && slab->visiting == 0) /* else visit unmaps it */
            unmap_chunk(chunk);
        return;
    }
    chunk->room_next = slab->room[chunk->size_class]; /* was full: has room again */
    slab->room[chunk->size_class] = chunk;
}

void *ax__slab_owner(const void *block)
{
    return chunk_of(block)->owner;
}

void ax__slab_visit(struct ax__slab *slab, void (*visit)(void *block, void *arg), void *arg)
{
    slab->visiting++; /* a large chunk freed meanwhile stays mapped until the end */
    for (struct ax__chunk *c = slab->chunks; c != NULL; c = c->next)
        for (uint32_t i = 0; i < c->blocks; i++)
            if (c->used[i / 64] & (uint64_t)1 << (i % 64))
                visit(block_at(c, i), arg);
    if (--slab->visiting > 0)
        return;
    struct ax__chunk *next;
    for (struct ax__chunk *c = slab->chunks; c != NULL; c = next) {
        next = c->next;
        if (c->size_class == LARGE && !chunk_in_use(c))
            unmap_chunk(c);
    }
}

void ax__slab_destroy(struct ax__slab *slab)
{
    /* Under valgrind, memory that still holds a block stays mapped, so that the block
     * is reported as leaked rather than mistaken for a later one. */
    bool keep_regions = false;
    for (struct ax__chunk *c = slab->chunks; UNDER_VALGRIND && c != NULL; c = c->next)
        keep_regions |= c->size_class != LARGE && chunk_in_use(c);
    struct ax__chunk *next;
    for (struct ax__chunk *c = slab->chunks; c != NULL; c = next) {
        next = c->next;
        bool keep = c->size_class == LARGE ? UNDER_VALGRIND && chunk_in_use(c) : keep_regions;
        if (!keep)
            unmap_chunk(c);
    }
    memset(slab, 0, sizeof *slab);
}
