//@ 01
/* A fixture for tools/book/test-book.sh: markers of two chapters and nested snippets. */
#include <stdio.h>

// snippet demo-struct
struct demo {
    int fd;
    //> 02
    int added_in_02;
    //< 02
};
// end snippet

// snippet demo-run
int demo_run(struct demo *d)
{
    int total = 0;
    // snippet demo-loop
    for (int i = 0; i < 3; i++) {
        //> 01..02
        //| total += i; /* the chapter 01 way, replaced in chapter 02 */
        //< 01
        //> 02
        total += 2 * i; /* the chapter 02 way */
        //< 02
    }
    // end snippet
    return total + d->fd;
}
// end snippet

//> 03
// snippet later-chapter
int demo_later(void)
{
    return 3;
}
// end snippet
//< 03
