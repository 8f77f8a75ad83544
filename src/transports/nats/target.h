#pragma once
// Target: what a nats:// endpoint names, read from its text and parameters.
//   nats://[user:pass@]host[:port][,host[:port]...]/subject?queue=NAME&token=...
// The servers are a cluster (the library tries them in turn and reconnects
// among them); the subject may hold the wildcards '*' (one token) and '>'
// (the rest) when listening. Credentials go to the library, never to a
// message: shown() names the servers and the subject only.
#include <string>
#include <vector>

#include "stage/schemes.h"

namespace netdisp::transports::nats {

struct Target {
  std::vector<std::string> servers;  // "nats://host:port", without credentials
  std::string subject;
  std::string queue;  // listen: a queue group
  std::string user, password, token, creds;  // creds: a .creds file (JWT + NKey seed)
  bool tls = false;
  std::string ca, cert, key;  // TLS files
  std::string name;           // the connection's name in the server's monitoring
  std::string shown;          // "nats://h1:4222,h2:4222/subject": for messages and logs
};

// Parses and checks the endpoint for `role`; throws net::UsageError naming
// it (without credentials) and what is wrong.
Target parse_target(const stage::Endpoint& endpoint, stage::Role role);

// Whether `subject` is a NATS subject: tokens separated by '.', none empty,
// no white space; with `wildcards`, a token may be '*' and the last '>'.
bool valid_subject(const std::string& subject, bool wildcards);

}  // namespace netdisp::transports::nats
