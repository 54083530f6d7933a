// The recheck model's three index forms answer the recheck's question the same way.
#include <gtest/gtest.h>

#include <vector>

#include "bench/recheck_model.h"

TEST(RecheckModel, EveryFormFindsTheCurrentEntryAndRejectsAReplacedOne) {
  for (const auto& form : swapbench::kRecheckForms) {
    auto idx = swapbench::make_index(form);
    std::vector<swapbench::ModelEntry> e(5000);
    for (size_t i = 0; i < e.size(); ++i) {
      e[i].offset = 3 * i + 1;
      idx->insert(e[i].offset, &e[i]);
    }
    for (size_t i = 0; i < e.size(); i += 37) EXPECT_TRUE(idx->still_current(e[i].offset, &e[i])) << form << " " << i;
    swapbench::ModelEntry newer{e[10].offset};
    idx->insert(newer.offset, &newer);  // the slot was freed and reused: a new entry at the same offset
    EXPECT_FALSE(idx->still_current(e[10].offset, &e[10])) << form;
    EXPECT_TRUE(idx->still_current(newer.offset, &newer)) << form;
    EXPECT_FALSE(idx->still_current(2, &e[0])) << form;                   // never stored
    EXPECT_FALSE(idx->still_current(1ull << 40, &e[0])) << form;          // beyond every node
  }
}

TEST(RecheckModel, AnUnknownFormIsRefusedWithTheAcceptedOnes) {
  EXPECT_THROW(
      {
        try {
          swapbench::make_index("btree");
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("accepted: rbtree, xa_lock, xa_rcu"), std::string::npos);
          throw;
        }
      },
      std::invalid_argument);
}
