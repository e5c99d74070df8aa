// tools/bench/nodelay_shim.c: LD_PRELOAD shim that sets TCP_NODELAY on every
// socket the process accept()s. Used by run-seed.sh only to measure what the
// API would answer if api/server.cpp called httplib's set_tcp_nodelay(true):
// without it, each keep-alive response waits ~40 ms (Nagle on the server's
// second write + the client's delayed ACK). Not linked into anything.
//   gcc -shared -fPIC -O2 -o nodelay.so nodelay_shim.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
static void nd(int fd){ if(fd>=0){int one=1; setsockopt(fd,IPPROTO_TCP,TCP_NODELAY,&one,sizeof one);} }
int accept(int s, struct sockaddr* a, socklen_t* l){ static int(*r)(int,struct sockaddr*,socklen_t*); if(!r) r=dlsym(RTLD_NEXT,"accept"); int fd=r(s,a,l); nd(fd); return fd; }
int accept4(int s, struct sockaddr* a, socklen_t* l, int f){ static int(*r)(int,struct sockaddr*,socklen_t*,int); if(!r) r=dlsym(RTLD_NEXT,"accept4"); int fd=r(s,a,l,f); nd(fd); return fd; }
