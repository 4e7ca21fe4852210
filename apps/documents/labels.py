# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""The words printed on shipping documents, in Russian and in English.

Both tables carry the same keys (a test holds them to it). The CMR box texts follow the
IRU model form and the Russian form used with the CMR Convention (КДПГ).
"""

from __future__ import annotations

from apps.documents.content import DocumentType, Language

ENGLISH: dict[str, str] = {
    # Titles.
    f"title.{DocumentType.COMMERCIAL_INVOICE}": "COMMERCIAL INVOICE",
    f"title.{DocumentType.CMR}": "INTERNATIONAL CONSIGNMENT NOTE",
    f"title.{DocumentType.BILL_OF_LADING}": "BILL OF LADING",
    f"title.{DocumentType.PACKING_LIST}": "PACKING LIST",
    f"title.{DocumentType.CERTIFICATE_OF_ORIGIN}": "CERTIFICATE OF ORIGIN",
    f"title.{DocumentType.PROOF_OF_DELIVERY}": "PROOF OF DELIVERY",
    # Header and footer.
    "number": "No.",
    "issue_date": "Date",
    "verify": "Verify this document",
    "page": "Page",
    # Parties.
    "seller": "Seller",
    "buyer": "Buyer",
    "shipper": "Shipper",
    "consignee": "Consignee",
    "carrier": "Carrier",
    "exporter": "Exporter",
    "tax_id": "Tax ID",
    # Shipment details.
    "place_of_taking_over": "Place of taking over",
    "taking_over_date": "Date of taking over",
    "place_of_delivery": "Place of delivery",
    "delivery_date": "Date of delivery",
    "vehicle": "Vehicle",
    "terms_of_delivery": "Terms of delivery",
    "currency": "Currency",
    "port_of_loading": "Port of loading",
    "port_of_discharge": "Port of discharge",
    "place_of_issue": "Place of issue",
    "documents_attached": "Documents attached",
    "received_by": "Received by",
    "remarks": "Remarks",
    # Item columns.
    "position": "No.",
    "sku": "SKU",
    "description": "Description of goods",
    "hs_code": "HS code",
    "origin_country": "Country of origin",
    "quantity": "Quantity",
    "unit": "Unit",
    "unit_price": "Unit price",
    "amount": "Amount",
    "weight_kg": "Gross weight, kg",
    "packages": "Packages",
    "packaging": "Packing",
    "volume_m3": "Volume, m³",
    "marks": "Marks and numbers",
    "quantity_delivered": "Quantity delivered",
    # Totals.
    "total": "Total",
    "total_amount": "Total amount",
    "total_weight_kg": "Total gross weight, kg",
    "total_packages": "Total packages",
    "total_volume_m3": "Total volume, m³",
    # Signatures.
    "signature": "Signature",
    "name_and_position": "Name and position",
    "stamp": "Stamp",
    "signature_date": "Date",
    # Statements.
    "statement.commercial_invoice": "We certify that this invoice is true and correct and shows the actual price "
    "of the goods described.",
    "statement.bill_of_lading": "Received by the carrier in apparent good order and condition, unless otherwise "
    "noted, the goods described above for carriage to the place of delivery.",
    "statement.packing_list": "The goods are packed as listed above.",
    "statement.certificate_of_origin": "The undersigned exporter declares that the goods described above "
    "originate in the countries shown.",
    "certification": "Certification by the competent authority",
    "statement.proof_of_delivery": "The goods listed above were received in full and in good condition, "
    "unless stated otherwise under remarks.",
    # The CMR form.
    "cmr.subtitle": "CMR",
    "cmr.clause": "This carriage is subject, notwithstanding any clause to the contrary, to the Convention on "
    "the Contract for the International Carriage of Goods by Road (CMR).",
    "cmr.1": "Sender (name, address, country)",
    "cmr.2": "Consignee (name, address, country)",
    "cmr.3": "Place of delivery of the goods (place, country)",
    "cmr.4": "Place and date of taking over the goods (place, country, date)",
    "cmr.5": "Documents attached",
    "cmr.6": "Marks and Nos",
    "cmr.7": "Number of packages",
    "cmr.8": "Method of packing",
    "cmr.9": "Nature of the goods",
    "cmr.10": "Statistical number",
    "cmr.11": "Gross weight, kg",
    "cmr.12": "Volume, m³",
    "cmr.13": "Sender's instructions",
    "cmr.14": "Instructions as to payment for carriage",
    "cmr.15": "Cash on delivery",
    "cmr.16": "Carrier (name, address, country)",
    "cmr.17": "Successive carriers",
    "cmr.18": "Carrier's reservations and observations",
    "cmr.19": "Special agreements",
    "cmr.20": "To be paid by",
    "cmr.21": "Established in",
    "cmr.22": "Signature and stamp of the sender",
    "cmr.23": "Signature and stamp of the carrier",
    "cmr.24": "Goods received: signature and stamp of the consignee",
    "cmr.on": "on",
    "cmr.annex": "Annex to consignment note",
    "cmr.continued": "continued in the annex",
    "cmr.carriage_charges": "Carriage charges",
    "cmr.supplementary_charges": "Supplementary charges",
    "cmr.sender": "Sender",
}

RUSSIAN: dict[str, str] = {
    f"title.{DocumentType.COMMERCIAL_INVOICE}": "КОММЕРЧЕСКИЙ ИНВОЙС",
    f"title.{DocumentType.CMR}": "МЕЖДУНАРОДНАЯ ТОВАРНО-ТРАНСПОРТНАЯ НАКЛАДНАЯ",
    f"title.{DocumentType.BILL_OF_LADING}": "КОНОСАМЕНТ",
    f"title.{DocumentType.PACKING_LIST}": "УПАКОВОЧНЫЙ ЛИСТ",
    f"title.{DocumentType.CERTIFICATE_OF_ORIGIN}": "СЕРТИФИКАТ ПРОИСХОЖДЕНИЯ",
    f"title.{DocumentType.PROOF_OF_DELIVERY}": "ПОДТВЕРЖДЕНИЕ ДОСТАВКИ",
    "number": "№",
    "issue_date": "Дата",
    "verify": "Проверить документ",
    "page": "Стр.",
    "seller": "Продавец",
    "buyer": "Покупатель",
    "shipper": "Грузоотправитель",
    "consignee": "Грузополучатель",
    "carrier": "Перевозчик",
    "exporter": "Экспортёр",
    "tax_id": "ИНН",
    "place_of_taking_over": "Место погрузки",
    "taking_over_date": "Дата погрузки",
    "place_of_delivery": "Место доставки",
    "delivery_date": "Дата доставки",
    "vehicle": "Транспортное средство",
    "terms_of_delivery": "Условия поставки",
    "currency": "Валюта",
    "port_of_loading": "Порт погрузки",
    "port_of_discharge": "Порт выгрузки",
    "place_of_issue": "Место составления",
    "documents_attached": "Прилагаемые документы",
    "received_by": "Груз принял",
    "remarks": "Примечания",
    "position": "№",
    "sku": "Артикул",
    "description": "Наименование товара",
    "hs_code": "Код ТН ВЭД",
    "origin_country": "Страна происхождения",
    "quantity": "Количество",
    "unit": "Ед. изм.",
    "unit_price": "Цена за единицу",
    "amount": "Сумма",
    "weight_kg": "Вес брутто, кг",
    "packages": "Мест",
    "packaging": "Упаковка",
    "volume_m3": "Объём, м³",
    "marks": "Маркировка",
    "quantity_delivered": "Доставлено",
    "total": "Итого",
    "total_amount": "Итого к оплате",
    "total_weight_kg": "Общий вес брутто, кг",
    "total_packages": "Всего мест",
    "total_volume_m3": "Общий объём, м³",
    "signature": "Подпись",
    "name_and_position": "Ф. И. О. и должность",
    "stamp": "М. П.",
    "signature_date": "Дата",
    "statement.commercial_invoice": "Настоящим подтверждаем, что сведения в инвойсе верны и отражают фактическую "
    "цену описанных товаров.",
    "statement.bill_of_lading": "Описанный выше груз принят перевозчиком в видимо исправном состоянии, если не "
    "указано иное, для перевозки до места доставки.",
    "statement.packing_list": "Товары упакованы в соответствии с настоящим листом.",
    "statement.certificate_of_origin": "Нижеподписавшийся экспортёр заявляет, что описанные выше товары "
    "происходят из указанных стран.",
    "certification": "Удостоверение уполномоченного органа",
    "statement.proof_of_delivery": "Перечисленный выше груз получен полностью и в надлежащем состоянии, если в "
    "примечаниях не указано иное.",
    "cmr.subtitle": "CMR",
    "cmr.clause": "Настоящая перевозка, независимо от любого соглашения об ином, производится в соответствии с "
    "Конвенцией о договоре международной дорожной перевозки грузов (КДПГ/CMR).",
    "cmr.1": "Отправитель (наименование, адрес, страна)",
    "cmr.2": "Получатель (наименование, адрес, страна)",
    "cmr.3": "Место разгрузки груза (место, страна)",
    "cmr.4": "Место и дата погрузки груза (место, страна, дата)",
    "cmr.5": "Прилагаемые документы",
    "cmr.6": "Знаки и номера",
    "cmr.7": "Количество мест",
    "cmr.8": "Род упаковки",
    "cmr.9": "Наименование груза",
    "cmr.10": "Статистический номер",
    "cmr.11": "Вес брутто, кг",
    "cmr.12": "Объём, м³",
    "cmr.13": "Указания отправителя",
    "cmr.14": "Указания об оплате перевозки",
    "cmr.15": "Наложенный платёж",
    "cmr.16": "Перевозчик (наименование, адрес, страна)",
    "cmr.17": "Последующие перевозчики",
    "cmr.18": "Оговорки и замечания перевозчика",
    "cmr.19": "Особые согласования",
    "cmr.20": "Подлежит оплате",
    "cmr.21": "Составлена в",
    "cmr.22": "Подпись и печать отправителя",
    "cmr.23": "Подпись и печать перевозчика",
    "cmr.24": "Груз получен: подпись и печать получателя",
    "cmr.on": "дата",
    "cmr.annex": "Приложение к накладной",
    "cmr.continued": "продолжение в приложении",
    "cmr.carriage_charges": "Провозная плата",
    "cmr.supplementary_charges": "Дополнительные сборы",
    "cmr.sender": "Отправитель",
}

LABELS: dict[Language, dict[str, str]] = {"en": ENGLISH, "ru": RUSSIAN}

CMR_BOX_NUMBERS = tuple(range(1, 25))


def labels_for(language: Language) -> dict[str, str]:
    """The label table of a language; a KeyError names an unsupported one."""
    return LABELS[language]
