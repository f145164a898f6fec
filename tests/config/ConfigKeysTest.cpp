// The key tables are the one place a key is defined: every key must reach
// the parser, the resolved YAML, the restart rules, `flowlat keys` and the
// README's table, and a default must read back as itself.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "config/Config.hpp"
#include "config/ConfigErrorOf.hpp"
#include "config/ConfigDiff.hpp"
#include "config/ConfigError.hpp"
#include "config/ConfigKeys.hpp"

namespace flowlat {
namespace {

const std::string kMinimal = "lattice: {shape: [8, 8]}\naction: {kind: phi4, m2: -4.0, lambda: 8.0}\n";

using testing::error_of;

TEST(ConfigKeys, EveryKeyIsInTheResolvedYamlAndReadsBack) {
  const Config config = parse_config(kMinimal, "cfg.yaml");
  const YAML::Node resolved = YAML::Load(config.resolved_yaml());
  size_t printed = 0;
  for (const auto& section : resolved) printed += section.second.size();
  EXPECT_EQ(printed, config_keys().size()) << "the resolved YAML has keys the tables do not (or the reverse)";
  for (const KeyInfo& key : config_keys()) {
    const std::string name = key.path.substr(key.section.size() + 1);
    EXPECT_TRUE(resolved[key.section][name]) << key.path << " is missing from the resolved YAML";
    EXPECT_FALSE(key.help.empty()) << key.path << " has no help text";
    EXPECT_EQ(find_key(key.path), &key);
  }
}

TEST(ConfigKeys, EveryDefaultIsAcceptedAndChangesNothing) {
  const std::string plain = parse_config(kMinimal, "cfg.yaml").resolved_yaml();
  for (const KeyInfo& key : config_keys()) {
    if (key.requirement != Requirement::Optional) continue;
    const Config with_default = parse_config(kMinimal, "cfg.yaml", {key.path + "=" + key.default_text});
    EXPECT_EQ(with_default.resolved_yaml(), plain) << key.path << " = " << key.default_text;
  }
}

TEST(ConfigKeys, RestartRulesComeFromTheTable) {
  for (const KeyInfo& key : config_keys()) {
    for (Changeable restart : {Changeable::OnTrainResume, Changeable::OnSampleResume, Changeable::OnHmcResume}) {
      EXPECT_EQ(may_change(key.path, restart), includes(key.changeable, restart)) << key.path;
    }
  }
  EXPECT_FALSE(may_change("no.such_key", Changeable::OnTrainResume));
  // What defines the physics or the model never changes on a training restart.
  for (const char* fixed : {"lattice.shape", "action.m2", "flow.n_layers", "train.lr", "run.precision"}) {
    EXPECT_FALSE(may_change(fixed, Changeable::OnTrainResume)) << fixed;
    EXPECT_FALSE(may_change(fixed, Changeable::OnSampleResume)) << fixed;
  }
}

TEST(ConfigKeys, TheReadmeTableIsTheGeneratedOne) {
  std::ifstream file(std::string(FLOWLAT_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(file) << "README.md not found";
  std::stringstream text;
  text << file.rdbuf();
  const std::string table = key_table(KeyTableStyle::Markdown);
  EXPECT_NE(text.str().find(table), std::string::npos)
      << "README.md's key table is out of date; replace it with the output of `flowlat keys --markdown`:\n"
      << table;
}

TEST(ConfigKeys, TheTextTableNamesEveryKeyWithItsDefault) {
  const std::string text = key_table(KeyTableStyle::Text);
  for (const KeyInfo& key : config_keys()) EXPECT_NE(text.find(key.path + " ("), std::string::npos) << key.path;
  EXPECT_NE(text.find("train.lr (number, default 0.001); allowed: > 0"), std::string::npos) << text;
  EXPECT_NE(key_table(KeyTableStyle::Text, "hmc").find("hmc.integrator (name, default omelyan); allowed: leapfrog, "
                                                       "omelyan"),
            std::string::npos);
  EXPECT_EQ(key_table(KeyTableStyle::Text, "hmc").find("train."), std::string::npos);
}

TEST(ConfigKeys, RepeatedKeysAndSectionsAndEmptyValuesAreRefused) {
  EXPECT_EQ(error_of(kMinimal + "train:\n  lr: 0.1\n  lr: 0.2\n"), "cfg.yaml:5: train.lr: given twice");
  EXPECT_EQ(error_of(kMinimal + "train: {lr: 0.1}\ntrain: {steps: 3}\n"),
            "cfg.yaml:4: section 'train' appears twice (merge the two)");
  EXPECT_EQ(error_of(kMinimal + "train: {steps: }\n"),
            "cfg.yaml:3: train.steps: empty value (give a value or leave the key out for its default)");
  EXPECT_EQ(error_of(kMinimal, {"train.lr="}),
            "--set train.lr: train.lr: empty value (give a value or leave the key out for its default)");
  // An empty section is allowed: every key takes its default.
  EXPECT_EQ(error_of(kMinimal + "hmc:\n"), "(no error)");
}

TEST(ConfigKeys, ANewKeyMissingFromAnOldFileCountsAsItsDefault) {
  const Config config = parse_config(kMinimal, "cfg.yaml");
  // A configuration written before train.check_every existed.
  YAML::Node old = YAML::Load(config.resolved_yaml());
  old["train"].remove("check_every");
  YAML::Emitter out;
  out << old;
  EXPECT_TRUE(forbidden_changes(out.c_str(), config.resolved_yaml(), Changeable::OnSampleResume, "in the file").empty());
  const Config changed = parse_config(kMinimal, "cfg.yaml", {"flow.n_layers=4"});
  YAML::Node older = YAML::Load(config.resolved_yaml());
  older["flow"].remove("n_layers");
  YAML::Emitter out2;
  out2 << older;
  const auto changes = forbidden_changes(out2.c_str(), changed.resolved_yaml(), Changeable::OnTrainResume, "then");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "flow.n_layers: 16 then, 4 now");
}

}  // namespace
}  // namespace flowlat
