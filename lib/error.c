//@ 01
/* Error codes as text; see ax/error.h for the convention. */
#include "ax/error.h"

#include <errno.h>
#include <string.h>

const char *ax_strerror(int err)
{
    if (err == AX_EOF)
        return "Unexpected end of stream";
    //> 08
    if (err == AX_ENOHOST)
        return "Unknown host: the name does not resolve";
    if (err == AX_ERESOLVE)
        return "Name resolution failed for now: no name server answered";
    //< 08
    if (err >= 0)
        return "Success";
    return strerror(-err);
}

int ax__errno(void)
{
    return errno > 0 ? -errno : -EIO;
}
