#include <gtest/gtest.h>

#include <fstream>

#include "gm/io/sha256.hpp"
#include "test_util.hpp"

namespace {

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(gm::io::sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(gm::io::sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(gm::io::sha256_hex(two_blocks.data(), two_blocks.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(gm::io::sha256_hex(million.data(), million.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StreamingEqualsOneShotAndPythonHashlib) {
  gm::test::TempDir dir;
  const std::string path = dir.file("data.bin");
  gm::test::write_random_bytes(path, 3 * 1024 * 1024 + 17);
  const std::string hex = gm::io::sha256_file(path);
  gm::test::run_python("import hashlib\nassert hashlib.sha256(open('" + path + "','rb').read()).hexdigest() == '" +
                       hex + "'\n");
}

}  // namespace
