// GoogleTest main for the unit tests: a singleton MPI session so code that
// takes a Communicator (Communicator::self()) runs without mpirun.
#include <gtest/gtest.h>

#include "parallel/MpiSession.hpp"

int main(int argc, char** argv) {
  flowlat::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
