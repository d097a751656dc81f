#include "gm/parallel/group.hpp"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "gm/version.hpp"
// LibTorch 2.x declares each backend's group only under the macro its own build defined.
#if defined(GM_WITH_GLOO) && !defined(USE_C10D_GLOO)
#define USE_C10D_GLOO
#endif
#if defined(GM_WITH_NCCL) && !defined(USE_C10D_NCCL)
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#ifdef GM_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef GM_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/text.hpp"

namespace gm::parallel {

// The collectives of the concrete group. Its c10d base class differs between LibTorch 1.x
// (ProcessGroup) and 2.x (Backend); the calls gm makes do not.
struct ProcessGroup::Groups {
  using Collective = std::function<c10::intrusive_ptr<c10d::Work>(std::vector<torch::Tensor>&)>;
  c10::intrusive_ptr<c10d::Store> store;
  Collective broadcast, all_reduce_sum;

  template <typename Group>
  void use(c10::intrusive_ptr<Group> group) {
    broadcast = [group](std::vector<torch::Tensor>& tensors) { return group->broadcast(tensors); };
    all_reduce_sum = [group](std::vector<torch::Tensor>& tensors) { return group->allreduce(tensors); };
  }
};

namespace {

std::string message_of(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) return first_line(c10_error->what_without_backtrace());
  return first_line(error.what());
}

}  // namespace

void ProcessGroup::lost(const std::string& what, const std::exception& error) const {
  fail("{} ({} world of {}, rendezvous at {}:{}): {}", what, launch_.launcher, launch_.world, launch_.address,
       launch_.port, message_of(error));
}

ProcessGroup::ProcessGroup(const Launch& launch, c10::Device device, std::chrono::milliseconds timeout)
    : launch_(launch), groups_(std::make_unique<Groups>()) {
#ifdef GM_WITH_NCCL
  const bool nccl = device.is_cuda();
#else
  const bool nccl = false;
#endif
#ifdef GM_WITH_GLOO
  const bool gloo = !nccl;
#else
  const bool gloo = false;
#endif
  if (!nccl && !gloo)
    fail("this build of gm has no c10d backend for {} tensors (Gloo needs libgloo-dev at build time, NCCL a CUDA "
         "LibTorch and nccl.h)", device.str());
  try {
    c10d::TCPStoreOptions store;
    store.port = static_cast<std::uint16_t>(launch.port);
    const bool agent = !launch.agent_store_prefix.empty();
    store.isServer = launch.rank == 0 && !agent;
    store.numWorkers = static_cast<std::size_t>(launch.world);
    store.waitWorkers = !agent;
    store.timeout = timeout;
    groups_->store = c10::make_intrusive<c10d::TCPStore>(launch.address, store);
    if (agent) groups_->store = c10::make_intrusive<c10d::PrefixStore>(launch.agent_store_prefix, groups_->store);
  } catch (const std::exception& error) {
    lost(fmt::format("no rendezvous with the other ranks within {} s", timeout.count() / 1000.0), error);
  }
  // LibTorch 1.13's store waits without a deadline when a peer dies halfway through the
  // backend's connection set-up, so a watchdog ends the process when it overruns the timeout.
  // The process has written nothing yet.
  std::mutex mutex;
  std::condition_variable finished;
  bool connected = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mutex);
    if (finished.wait_for(lock, timeout, [&] { return connected; })) return;
    std::fprintf(stderr, "%s: the other ranks did not all connect within %g s (%s world of %d, rendezvous at %s:%d)\n",
                 log::program().c_str(), static_cast<double>(timeout.count()) / 1000.0, launch.launcher.c_str(),
                 launch.world, launch.address.c_str(), launch.port);
    std::_Exit(1);
  });
  const auto stop_watchdog = [&] {
    {
      const std::lock_guard<std::mutex> lock(mutex);
      connected = true;
    }
    finished.notify_one();
    watchdog.join();
  };
  try {
#ifdef GM_WITH_NCCL
    if (nccl) {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      groups_->use(c10::make_intrusive<c10d::ProcessGroupNCCL>(groups_->store, launch.rank, launch.world, options));
      backend_ = "nccl";
    }
#endif
#ifdef GM_WITH_GLOO
    if (gloo) {
      // Gloo also takes CUDA tensors, through host memory, where NCCL is missing.
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // As torch.distributed does: GLOO_SOCKET_IFNAME picks the network interface, else the
      // address this host's name resolves to.
      const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
      options->devices.push_back(interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                           : c10d::ProcessGroupGloo::createDefaultDevice());
      groups_->use(c10::make_intrusive<c10d::ProcessGroupGloo>(groups_->store, launch.rank, launch.world, options));
      backend_ = "gloo";
    }
#endif
  } catch (const std::exception& error) {
    stop_watchdog();
    lost(fmt::format("the other ranks did not all connect within {} s", timeout.count() / 1000.0), error);
  }
  stop_watchdog();
  log::verbose("rank {} of {} joined the {} process group ({}, {}:{})", launch.rank, launch.world, backend_,
               launch.launcher, launch.address, launch.port);
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::broadcast(torch::Tensor& tensor) {
  std::vector<torch::Tensor> tensors{tensor};
  try {
    groups_->broadcast(tensors)->wait();
  } catch (const std::exception& error) {
    lost("broadcast failed", error);
  }
}

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  std::vector<c10::intrusive_ptr<c10d::Work>> pending;
  try {
    for (torch::Tensor& tensor : tensors) {
      std::vector<torch::Tensor> one{tensor};
      pending.push_back(groups_->all_reduce_sum(one));
    }
    for (const auto& work : pending) work->wait();
  } catch (const std::exception& error) {
    lost("a peer is gone (all-reduce failed)", error);
  }
}

}  // namespace gm::parallel
