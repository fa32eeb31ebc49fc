/* The second half of the per-hook checks (see every_hook.c for the conventions):
 * argv[1] = A (the scratch dir through /unreal), argv[2] = B (the real scratch dir). */
#include <stdio.h>
int main(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("done every_hook_more\n");
    return 0;
}
