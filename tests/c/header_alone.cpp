/* The header compiles alone, first and only include, as C11 and as C++17. */
#include "credchain.h"

int header_alone_compiles(void);
int header_alone_compiles(void) {
    return (int)CREDCHAIN_OK + (int)sizeof(credchain_credentials);
}
