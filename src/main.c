/* Entry point; replaced by the full CLI in the integration commit. */
#include <stdio.h>

int main(void)
{
    printf("vsrup %s\n", VSR_VERSION);
    return 0;
}
