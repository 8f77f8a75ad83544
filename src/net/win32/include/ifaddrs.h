#pragma once
// getifaddrs(3) for the Windows build, over GetAdaptersAddresses
// (net/platform_win32.cpp): names are the adapters' friendly names, as
// if_nametoindex/if_indextoname here take them.
#include "net/win32/posix.h"

struct ifaddrs {
  struct ifaddrs* ifa_next;
  char* ifa_name;
  unsigned ifa_flags;
  struct sockaddr* ifa_addr;
  struct sockaddr* ifa_netmask;
};
int getifaddrs(struct ifaddrs** list);
void freeifaddrs(struct ifaddrs* list);
