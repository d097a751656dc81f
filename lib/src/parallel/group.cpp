#include "gm/parallel/group.hpp"

#include <cstdlib>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef GM_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/text.hpp"

namespace gm::parallel {

struct ProcessGroup::Groups {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
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
  try {
    c10d::TCPStoreOptions store;
    store.port = static_cast<std::uint16_t>(launch.port);
    store.isServer = launch.rank == 0;
    store.numWorkers = static_cast<std::size_t>(launch.world);
    store.waitWorkers = true;
    store.timeout = timeout;
    groups_->store = c10::make_intrusive<c10d::TCPStore>(launch.address, store);
  } catch (const std::exception& error) {
    lost(fmt::format("no rendezvous with the other ranks within {} s", timeout.count() / 1000.0), error);
  }
  try {
#ifdef GM_WITH_NCCL
    if (device.is_cuda()) {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      groups_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(groups_->store, launch.rank, launch.world, options);
      backend_ = "nccl";
      return;
    }
#endif
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // As torch.distributed does: GLOO_SOCKET_IFNAME picks the network interface, else the
    // address this host's name resolves to.
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    options->devices.push_back(interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                         : c10d::ProcessGroupGloo::createDefaultDevice());
    groups_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(groups_->store, launch.rank, launch.world, options);
    backend_ = "gloo";
  } catch (const std::exception& error) {
    lost(fmt::format("the other ranks did not all connect within {} s", timeout.count() / 1000.0), error);
  }
  log::verbose("rank {} of {} joined the {} process group ({}, {}:{})", launch.rank, launch.world, backend_,
               launch.launcher, launch.address, launch.port);
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::broadcast(torch::Tensor& tensor) {
  std::vector<torch::Tensor> tensors{tensor};
  try {
    groups_->group->broadcast(tensors)->wait();
  } catch (const std::exception& error) {
    lost("broadcast failed", error);
  }
}

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  std::vector<c10::intrusive_ptr<c10d::Work>> pending;
  try {
    for (torch::Tensor& tensor : tensors) {
      std::vector<torch::Tensor> one{tensor};
      pending.push_back(groups_->group->allreduce(one));
    }
    for (const auto& work : pending) work->wait();
  } catch (const std::exception& error) {
    lost("a peer is gone (all-reduce failed)", error);
  }
}

}  // namespace gm::parallel
