//@ 03
/* The spare descriptor that lets a server shed connections at its fd limit. */
#include "ax/reserve.h"
#include "ax/error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

int ax_fd_reserve_init(struct ax_fd_reserve *reserve)
{
    reserve->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return reserve->fd < 0 ? ax__errno() : 0;
}

void ax_fd_reserve_free(struct ax_fd_reserve *reserve)
{
    if (reserve->fd >= 0)
        close(reserve->fd);
    reserve->fd = -1;
}

// snippet fd-reserve-shed
int ax_fd_reserve_shed(struct ax_fd_reserve *reserve, int listen_fd)
{
    if (reserve->fd < 0 && ax_fd_reserve_init(reserve) < 0)
        return -EMFILE; /* no spare: nothing to shed with */
    close(reserve->fd); /* one slot free, for a moment */
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    int shed = fd >= 0 ? 1 : errno == EAGAIN || errno == EWOULDBLOCK ? 0 : ax__errno();
    if (fd >= 0)
        close(fd); /* the client sees the connection end instead of waiting */
    int err = ax_fd_reserve_init(reserve); /* take the slot back at once */
    return err < 0 ? err : shed;
}
// end snippet
