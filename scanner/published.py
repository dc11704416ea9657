"""Credentials that vendors publish in their own documentation, samples and tests (exact values).

Every value here is public by the vendor's own hand, so reporting it only teaches users to ignore the
scanner. Each entry names where the vendor publishes it; add a value only with such a source.
"""
from __future__ import annotations

# AWS documentation's example access key pair, e.g.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
_AWS = (
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)

# Stripe's API reference samples (https://docs.stripe.com/api/authentication).
_STRIPE = (
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
    "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
)

# Google API keys in Google's own Firebase SDK sources, github.com/firebase/firebase-android-sdk
# (paths at commit a089298e unless another commit is named). They configure unit tests and demos.
_GOOGLE = (
    # firebase-appdistribution/src/test/java/com/google/firebase/appdistribution/impl/ApkUpdaterTest.java
    "AIzaSyabcdefghijklmnopqrstuvwxyz1234567",
    # firebase-installations/src/test/java/com/google/firebase/installations/FirebaseInstallationsTest.java
    "AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs",
    "AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c",
    "AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4",
    "AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY",
    "AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM",
    "AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ",
    # firebase-common/src/androidTest/java/com/google/firebase/FirebaseOptionsTest.java
    "AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0",
    # firebase-dataconnect/demo/google-services.json
    "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A",
    # firebase-messaging/src/test/java/com/google/firebase/messaging/testing/MessagingTestHelper.java
    "AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g",
    # firebase-messaging/src/test/java/com/google/firebase/messaging/testing/FirebaseIidTestUtil.java
    "AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU",
    # firebase-perf/src/test/java/com/google/firebase/perf/FirebasePerformanceTestBase.java
    "AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw",
    # initial open-source commit 00d46269f1 (2018-09-05):
    # firebase-storage/src/test/java/com/google/firebase/storage/TestUtil.java
    "AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM",
    # firebase-storage/src/androidTest/java/com/google/firebase/storage/integration/IntegrationTest.java
    "AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU",
)

# Microsoft's nuget.config reference, packageSourceCredentials "when using unencrypted passwords"
# (https://learn.microsoft.com/nuget/reference/nuget-config-file).
_MICROSOFT = ("33f!!lloppa", "hal+9ooo_da!sY")

# The public, search-only Algolia key of the npm-search index (application OFCNCOG2CU) that Yarn ships
# in its CLI releases (github.com/yarnpkg/berry/issues/6201).
_YARN = ("6fe4476ee5a1832882e326b506d14126",)

PUBLISHED_EXAMPLES: frozenset[str] = frozenset(_AWS + _STRIPE + _GOOGLE + _MICROSOFT + _YARN)
