// What every client of the parameter server is configured with: how to
// connect and how to wait. A plain value.
#ifndef ADALINE_CLIENT_CLIENT_OPTIONS_H_
#define ADALINE_CLIENT_CLIENT_OPTIONS_H_

#include "client/channel.h"
#include "client/retry.h"

namespace adaline {

struct ClientOptions {
  ChannelOptions channel;
  RetryPolicy retry;
  // For workers (RemoteParameters): when a shard is at its key limit, drop
  // the new keys of a batch and train the rest (true), or have the shard
  // refuse the batch with RESOURCE_EXHAUSTED, which ends the push (false).
  bool drop_new_keys_if_full = true;
  // For workers: a shard whose step goes back (it restarted from an older
  // checkpoint, or from none, and lost training) stops the worker with an
  // error, unless this allows training on.
  bool allow_shard_reset = false;
};

}  // namespace adaline

#endif  // ADALINE_CLIENT_CLIENT_OPTIONS_H_
