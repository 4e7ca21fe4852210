# ruff: noqa: RUF001, E501 - the Russian texts are Russian; a text reads best on one line
"""The default subject and body of each notification type, in English and Russian.

Jinja2 over the event's payload (apps.notifications.rendering), the same language staff's
templates use; a staff template for a type, channel and language replaces these. SMS and push
send the subject alone when no template of their own says otherwise: they are short.
"""

from __future__ import annotations

# The customer side hears of the expert's moves: the customer person and the dispatchers read the
# same words. A completion (`service_order.completed`) carries no `action`.
_SERVICE_ORDER_PROGRESS = {
    "en": (
        "Service order {{ number }}: {% if action is not defined %}completed{% elif action == 'accept' %}accepted by the expert{% elif action == 'decline' %}declined by the expert{% else %}work started{% endif %}",
        "{% if action is not defined %}Service order {{ number }} ({{ title }}) is completed and signed off. Open it to read the work done{% if passport_id %}; the device's passport has the service step{% endif %}.{% elif action == 'accept' %}An expert accepted service order {{ number }} ({{ title }}) and will do the work.{% elif action == 'decline' %}The expert declined service order {{ number }} ({{ title }}). It is pending again: assign another expert, or wait for the next offers.{% if reason %} Their reason: {{ reason }}{% endif %}{% else %}The expert started the work of service order {{ number }} ({{ title }}).{% endif %}",
    ),
    "ru": (
        "Сервисный заказ {{ number }}: {% if action is not defined %}выполнен{% elif action == 'accept' %}принят специалистом{% elif action == 'decline' %}специалист отказался{% else %}работы начаты{% endif %}",
        "{% if action is not defined %}Сервисный заказ {{ number }} ({{ title }}) выполнен и подписан. Откройте его, чтобы прочитать, что сделано{% if passport_id %}; в паспорте устройства появилась запись об обслуживании{% endif %}.{% elif action == 'accept' %}Специалист принял сервисный заказ {{ number }} ({{ title }}) и выполнит работы.{% elif action == 'decline' %}Специалист отказался от сервисного заказа {{ number }} ({{ title }}). Заказ снова ожидает: назначьте другого специалиста или дождитесь следующих предложений.{% if reason %} Причина: {{ reason }}{% endif %}{% else %}Специалист начал работы по сервисному заказу {{ number }} ({{ title }}).{% endif %}",
    ),
}

DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    "rfq.created": {
        "en": (
            "New RFQ {{ number }}",
            "RFQ {{ number }} was published to your organization. Open it to make an offer.",
        ),
        "ru": (
            "Новый запрос {{ number }}",
            "Вашей организации направлен запрос {{ number }}. Откройте его, чтобы сделать предложение.",
        ),
    },
    "rfq.updated": {
        "en": ("RFQ {{ number }} changed", "RFQ {{ number }} is now {{ status|words }}."),
        "ru": ("Запрос {{ number }} изменён", "Запрос {{ number }}: статус «{{ status|words }}»."),
    },
    "offer.received": {
        "en": (
            "Offer on {{ rfq_number }}: {{ price }} {{ currency }}",
            "A carrier offered {{ price }} {{ currency }} on RFQ {{ rfq_number }} (version {{ version }}).",
        ),
        "ru": (
            "Предложение по {{ rfq_number }}: {{ price }} {{ currency }}",
            "Перевозчик предложил {{ price }} {{ currency }} по запросу {{ rfq_number }} (версия {{ version }}).",
        ),
    },
    "offer.accepted": {
        "en": (
            "Your offer on {{ rfq_number }} was accepted",
            "The shipper accepted your offer on RFQ {{ rfq_number }}. The order is created.",
        ),
        "ru": (
            "Ваше предложение по {{ rfq_number }} принято",
            "Грузоотправитель принял ваше предложение по запросу {{ rfq_number }}. Заказ создан.",
        ),
    },
    "order.status_changed": {
        "en": (
            "Order {{ number }}: {{ to_status|words }}",
            "Order {{ number }} moved from {{ from_status|words }} to {{ to_status|words }}.{% if note %} {{ note }}{% endif %}",
        ),
        "ru": (
            "Заказ {{ number }}: {{ to_status|words }}",
            "Заказ {{ number }} перешёл из статуса «{{ from_status|words }}» в «{{ to_status|words }}».{% if note %} {{ note }}{% endif %}",
        ),
    },
    "payment.escrow_funded": {
        "en": (
            "Escrow funded: {{ held_amount }} {{ currency }}",
            "{{ held_amount }} {{ currency }} is held in escrow for the order.",
        ),
        "ru": (
            "Эскроу пополнен: {{ held_amount }} {{ currency }}",
            "На эскроу по заказу удерживается {{ held_amount }} {{ currency }}.",
        ),
    },
    "payment.escrow_released": {
        "en": (
            "Escrow released: {{ amount }} {{ currency }}",
            "{{ amount }} {{ currency }} was released from escrow to the carrier.",
        ),
        "ru": (
            "Эскроу выплачен: {{ amount }} {{ currency }}",
            "{{ amount }} {{ currency }} перечислено с эскроу исполнителю.",
        ),
    },
    "payment.escrow_refunded": {
        "en": (
            "Escrow refunded: {{ amount }} {{ currency }}",
            "{{ amount }} {{ currency }} was refunded from escrow to the payer.",
        ),
        "ru": (
            "Эскроу возвращён: {{ amount }} {{ currency }}",
            "{{ amount }} {{ currency }} возвращено с эскроу плательщику.",
        ),
    },
    "document.requested": {
        "en": (
            "Document requested: {{ document_type|words }}",
            "A {{ document_type|words }} was requested for the order.",
        ),
        "ru": (
            "Запрошен документ: {{ document_type|words }}",
            "По заказу запрошен документ {{ document_type|words }}.",
        ),
    },
    "document.ready": {
        "en": (
            "Document ready: {{ document_type|words }}",
            "The {{ document_type|words }} (version {{ version }}) is ready to download.",
        ),
        "ru": (
            "Документ готов: {{ document_type|words }}",
            "Документ {{ document_type|words }} (версия {{ version }}) готов к загрузке.",
        ),
    },
    "document.signed": {
        "en": (
            "Document signed: {{ document_type|words }}",
            "The {{ document_type|words }} (version {{ version }}) was signed.",
        ),
        "ru": (
            "Документ подписан: {{ document_type|words }}",
            "Документ {{ document_type|words }} (версия {{ version }}) подписан.",
        ),
    },
    "dispute.updated": {
        "en": (
            "Dispute {{ number }}{% if to_status %}: {{ to_status|words }}{% endif %}",
            "There is news in dispute {{ number }}{% if to_status %}: it is now {{ to_status|words }}{% endif %}. Open the case to see it.",
        ),
        "ru": (
            "Спор {{ number }}{% if to_status %}: {{ to_status|words }}{% endif %}",
            "В споре {{ number }} есть изменения{% if to_status %}: статус «{{ to_status|words }}»{% endif %}. Откройте дело, чтобы посмотреть.",
        ),
    },
    "dispute.staff_attention": {
        "en": (
            "Dispute {{ number }} needs a mediator",
            "Dispute {{ number }} needs attention: a new case, an appeal or a missed deadline.",
        ),
        "ru": (
            "Спору {{ number }} нужен медиатор",
            "Спор {{ number }} требует внимания: новое дело, обжалование или пропущенный срок.",
        ),
    },
    "passport.takeover": {
        "en": (
            "{% if status is defined %}Takeover of {{ code }} {{ status }}{% else %}{{ to_organization_name }} claims {{ code }}{% endif %}",
            "{% if status is defined %}The claim of {{ to_organization_name }} to {{ device_name }} ({{ code }}) was {{ status }}.{% if reason %} {{ reason }}{% endif %}{% else %}{{ to_organization_name }} claims your device {{ device_name }} ({{ code }}). Approve or reject the takeover.{% endif %}",
        ),
        "ru": (
            "{% if status is defined %}Передача {{ code }}: {{ status|words }}{% else %}{{ to_organization_name }} запрашивает {{ code }}{% endif %}",
            "{% if status is defined %}Запрос {{ to_organization_name }} на устройство {{ device_name }} ({{ code }}): решение «{{ status|words }}».{% if reason %} {{ reason }}{% endif %}{% else %}{{ to_organization_name }} запрашивает передачу вашего устройства {{ device_name }} ({{ code }}). Одобрите или отклоните запрос.{% endif %}",
        ),
    },
    "passport.service_requested": {
        "en": (
            "Service request {{ number }}: {{ device_name }}",
            "Service is requested for {{ device_name }} ({{ code }}), from {% if source == 'public' %}the device's public page{% else %}a member of your organization{% endif %}. Open request {{ number }} to acknowledge it.",
        ),
        "ru": (
            "Заявка на сервис {{ number }}: {{ device_name }}",
            "Запрошено обслуживание устройства {{ device_name }} ({{ code }}) {% if source == 'public' %}с его публичной страницы{% else %}сотрудником вашей организации{% endif %}. Откройте заявку {{ number }}, чтобы принять её.",
        ),
    },
    "service_order.assigned": {
        "en": (
            "Service order {{ number }} assigned to you",
            "You are assigned service order {{ number }}: {{ title }}. Accept it to confirm, or decline it if you cannot do the work.",
        ),
        "ru": (
            "Вам назначен сервисный заказ {{ number }}",
            "Вам назначен сервисный заказ {{ number }}: {{ title }}. Примите его, чтобы подтвердить, или откажитесь, если не сможете выполнить работы.",
        ),
    },
    "service_order.progress": _SERVICE_ORDER_PROGRESS,
    "service_order.dispatch": _SERVICE_ORDER_PROGRESS,
    "service_order.cancelled": {
        "en": (
            "Service order {{ number }} cancelled",
            "The customer cancelled service order {{ number }} ({{ title }}). You are free for other work.{% if reason %} Their reason: {{ reason }}{% endif %}",
        ),
        "ru": (
            "Сервисный заказ {{ number }} отменён",
            "Заказчик отменил сервисный заказ {{ number }} ({{ title }}). Вы свободны для других работ.{% if reason %} Причина: {{ reason }}{% endif %}",
        ),
    },
    "expert.membership_expired": {
        "en": (
            "Your {{ from_level }} membership expired",
            "Your {{ from_level }} membership has ended and your expert passport {{ code }} is on the FREE level: you no longer go RUSHING or receive live offers of urgent work. Renew the membership to rush again.",
        ),
        "ru": (
            "Ваше членство {{ from_level }} истекло",
            "Срок членства {{ from_level }} закончился, паспорт специалиста {{ code }} переведён на уровень FREE: режим RUSHING и срочные предложения работ больше недоступны. Продлите членство, чтобы снова их получать.",
        ),
    },
    "review.received": {
        "en": (
            "New review: {{ rating }}/5",
            "Your organization was rated {{ rating }} out of 5 for {{ subject_number }}. Open the reviews to read it.",
        ),
        "ru": (
            "Новый отзыв: {{ rating }}/5",
            "Вашу организацию оценили на {{ rating }} из 5 по {{ subject_number }}. Откройте отзывы, чтобы прочитать его.",
        ),
    },
    "review.about_you": {
        "en": (
            "You were rated {{ rating }}/5",
            "You were rated {{ rating }} out of 5 for {{ subject_number }}. Open the reviews to read what was written.",
        ),
        "ru": (
            "Ваша оценка: {{ rating }}/5",
            "Вас оценили на {{ rating }} из 5 по {{ subject_number }}. Откройте отзывы, чтобы прочитать его.",
        ),
    },
    "service.offer": {
        "en": (
            "{{ urgency|words }} service order {{ number }}: {{ title }}",
            "You are offered service order {{ number }} ({{ title }}, {{ urgency|words }}). The first expert to accept gets it; the offer is open until {{ expires_at }}.",
        ),
        "ru": (
            "Срочный заказ на сервис {{ number }}: {{ title }}",
            "Вам предложен заказ на сервис {{ number }} ({{ title }}, срочность «{{ urgency|words }}»). Его получит первый принявший эксперт; предложение действует до {{ expires_at }}.",
        ),
    },
    "kyc.decision": {
        "en": (
            "{% if document_type is defined %}{{ document_type|words }}: {{ status }}{% else %}Verification: {{ status }}{% endif %}",
            "{% if document_type is defined %}Your {{ document_type|words }} was {{ status }}.{% else %}Your organization is now {{ status }}.{% endif %}{% if reason is defined and reason %} {{ reason }}{% endif %}",
        ),
        "ru": (
            "{% if document_type is defined %}{{ document_type|words }}: {{ status }}{% else %}Проверка: {{ status }}{% endif %}",
            "{% if document_type is defined %}Документ {{ document_type|words }}: решение «{{ status }}».{% else %}Статус проверки вашей организации: «{{ status }}».{% endif %}{% if reason is defined and reason %} {{ reason }}{% endif %}",
        ),
    },
    "kyc.expiry": {
        "en": (
            "{{ document_type|words }} expires {{ expires_on }}",
            "Your {{ document_type|words }} expires on {{ expires_on }}. Upload a new one to stay verified.",
        ),
        "ru": (
            "{{ document_type|words }}: срок до {{ expires_on }}",
            "Срок действия документа {{ document_type|words }} истекает {{ expires_on }}. Загрузите новый, чтобы сохранить проверку.",
        ),
    },
    "tracking.alert": {
        "en": ("Shipment {{ reference }}: {{ severity|words }} {{ alert_type|words }} alert", "{{ message }}"),
        "ru": ("Отправление {{ reference }}: тревога {{ alert_type|words }} ({{ severity|words }})", "{{ message }}"),
    },
    "chat.message": {
        "en": (
            "New message",
            "You have a new chat message{% if attachment_count %} with {{ attachment_count }} attachment(s){% endif %}.",
        ),
        "ru": (
            "Новое сообщение",
            "У вас новое сообщение в чате{% if attachment_count %} с вложениями: {{ attachment_count }}{% endif %}.",
        ),
    },
    "system.alert": {
        "en": ("{{ title }}", "{{ body }}"),
        "ru": ("{{ title }}", "{{ body }}"),
    },
    "webhook.endpoint_disabled": {
        "en": (
            "Webhook endpoint disabled",
            "We stopped sending to {{ url }} after {{ failures }} failed deliveries ({{ reason }}). Fix it and switch it back on.",
        ),
        "ru": (
            "Вебхук отключён",
            "Мы перестали отправлять события на {{ url }} после {{ failures }} неудачных попыток ({{ reason }}). Исправьте и включите снова.",
        ),
    },
    "integration.sync_paused": {
        "en": (
            "Shop {{ shop_name }} paused after {{ consecutive_failures }} failed syncs: {{ error_code }}",
            "Manifest stopped syncing {{ shop_name }} ({{ platform|words }}, {{ shop_id }}) after {{ consecutive_failures }} failed syncs in a row: {{ error_code }}. {{ error }} One more run is tried after a pause; once the cause is fixed (the platform back, new credentials), use Sync now in the back-office to resume at once.",
        ),
        "ru": (
            "Магазин {{ shop_name }} приостановлен после {{ consecutive_failures }} неудачных синхронизаций: {{ error_code }}",
            "Manifest перестал синхронизировать {{ shop_name }} ({{ platform|words }}, {{ shop_id }}) после {{ consecutive_failures }} неудачных синхронизаций подряд: {{ error_code }}. {{ error }} После паузы будет ещё одна попытка; когда причина устранена (платформа снова доступна, новые ключи доступа), нажмите «Синхронизировать сейчас» в бэк-офисе, чтобы возобновить сразу.",
        ),
    },
    "security.sign_in": {
        "en": (
            "New sign-in to your account",
            "Someone signed in to your account from {{ ip_address }} ({{ user_agent }}). If it was not you, change your password.",
        ),
        "ru": (
            "Новый вход в аккаунт",
            "Выполнен вход в ваш аккаунт с адреса {{ ip_address }} ({{ user_agent }}). Если это были не вы, смените пароль.",
        ),
    },
    "security.password_changed": {
        "en": (
            "Your password was changed",
            "The password of your account was changed. If it was not you, reset it now.",
        ),
        "ru": ("Пароль изменён", "Пароль вашего аккаунта изменён. Если это были не вы, сбросьте его."),
    },
    "security.two_factor_disabled": {
        "en": (
            "Two-factor authentication is off",
            "Two-factor authentication was turned off for your account. If it was not you, secure your account now.",
        ),
        "ru": (
            "Двухфакторная аутентификация отключена",
            "Для вашего аккаунта отключена двухфакторная аутентификация. Если это были не вы, защитите аккаунт.",
        ),
    },
    "security.phone_verification": {
        "en": ("Manifest code: {{ code }}", "Your Manifest code is {{ code }}. It is valid for {{ minutes }} minutes."),
        "ru": ("Код Manifest: {{ code }}", "Ваш код Manifest: {{ code }}. Действует {{ minutes }} минут."),
    },
}
