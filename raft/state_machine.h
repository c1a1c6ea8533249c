// The interface between the Raft driver and the replicated state machine.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "raft/types.h"

namespace raftlock::raft {

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Index of the last entry whose effects are durable (0 when nothing applied).
  virtual Index applied_index() const = 0;
  // Applies committed entries, in order, exactly once: the effects of an entry
  // and the new applied index become durable together. Entries at or below
  // applied_index() are skipped (they were applied before a restart).
  virtual void apply(std::span<const Entry> entries) = 0;
  // An image of the state as of applied_index(), for a snapshot.
  virtual Bytes snapshot_image() = 0;
  // The same, without holding up the caller while a large image is built:
  // `done(index, image)` gets the image as of the applied index at the time
  // of the call, later, on the driver's executor. At most one at a time.
  // The default builds it at once.
  using ImageHandler = std::function<void(Index, Bytes)>;
  virtual void snapshot_image_async(ImageHandler done) { done(applied_index(), snapshot_image()); }
  // Replaces the whole state with a snapshot's image; applied_index() becomes
  // the snapshot's index.
  virtual void restore(const Snapshot& snapshot) = 0;
};

}  // namespace raftlock::raft
